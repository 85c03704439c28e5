/**
 * Identity: patients (INS), professionals (RPPS), organisations (FINESS), professional software
 * clients (OAuth2 client credentials) and patient sessions.
 */
export type { Patient, NewPatient, Professional } from './identity.service.ts';
export {
  registerPatient,
  resolvePatientByIns,
  getPatient,
  registerOrganization,
  registerProfessional,
  findProfessionalByRpps,
  listProfessionals,
  createClient,
  issueToken,
  authenticateBearer,
  signIn,
  resolveSession,
  signOut,
} from './identity.service.ts';
export { validateIns, insSystem, parseInsSystem } from './ins.ts';
export { parseProfessionalIdentifier, idnpsFromRpps, IDNPS_SYSTEM } from './rpps.ts';
export { professionByCode, specialtyByCode } from './professions.ts';
