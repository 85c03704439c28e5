/**
 * Identity: patients (INS), professionals (RPPS), organisations (FINESS), professional software
 * clients (OAuth2 client credentials) and patient sessions.
 */
export type { Patient, NewPatient, Professional, SessionMeta } from './identity.service.ts';
export {
  issueProvisionalCode,
  checkProvisionalCode,
  provisionalCodeRows,
  generateCode,
  normalizeCode,
  PROVISIONAL_CODE_DAYS,
} from './codes.ts';
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
  startSession,
  csrfTokenFor,
} from './identity.service.ts';
export { validateIns, insSystem, parseInsSystem } from './ins.ts';
export { parseProfessionalIdentifier, idnpsFromRpps, IDNPS_SYSTEM } from './rpps.ts';
export { professionByCode, specialtyByCode } from './professions.ts';
export { majorityAt, MAJORITY_AGE } from './majority.ts';
export * from './exports-signin.ts';
export * from './exports-passkeys.ts';
export * from './exports-pro.ts';
export {
  insertPatientsBulk,
  insertProvisionalCodesBulk,
  claimProvisioningDue,
  provisionalCodeMaker,
  findPatientsByMatricules,
  findPatientTraitsByIns,
  type BulkPatient,
  type BulkCreated,
  type PreparedCode,
} from './bulk.ts';
