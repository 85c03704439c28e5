import { invalid } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import { openEmergencyAccess, type ProfessionalActor } from '../modules/access/index.ts';
import { resolvePatientByIns } from '../modules/identity/index.ts';
import { insFromToken, type FhirResource } from './common.ts';

/**
 * `POST /fhir/R4/Patient/$emergency-access` — a professional facing a person unable to consent
 * (mode `break-glass`), or the emergency regulation on a call (mode `samu`), opens a time-limited
 * access. In: a Parameters resource with `patient` (valueIdentifier: the INS), `mode` (valueCode)
 * and `reason` (valueString, mandatory). Out: Parameters with the access id and its end.
 */

interface Parameter {
  name?: unknown;
  valueIdentifier?: { system?: unknown; value?: unknown };
  valueCode?: unknown;
  valueString?: unknown;
}

export async function emergencyAccessOperation(
  ctx: Ctx,
  actor: ProfessionalActor,
  body: unknown,
  hours: number,
): Promise<FhirResource> {
  const resource = body as { resourceType?: unknown; parameter?: unknown };
  if (
    !resource ||
    typeof resource !== 'object' ||
    resource.resourceType !== 'Parameters' ||
    !Array.isArray(resource.parameter)
  ) {
    throw invalid('Expected a Parameters resource', 'Parameters');
  }
  const params = resource.parameter as Parameter[];
  const find = (name: string): Parameter | undefined => params.find((p) => p.name === name);
  const patientParam = find('patient')?.valueIdentifier;
  if (typeof patientParam?.system !== 'string' || typeof patientParam.value !== 'string') {
    throw invalid(
      "The 'patient' parameter (valueIdentifier with the INS) is required",
      "Parameters.parameter.where(name='patient')",
    );
  }
  const mode = find('mode')?.valueCode;
  if (mode !== 'samu' && mode !== 'break-glass') {
    throw invalid(
      "The 'mode' parameter must be 'samu' or 'break-glass'",
      "Parameters.parameter.where(name='mode')",
    );
  }
  const reason = find('reason')?.valueString;
  if (typeof reason !== 'string') {
    throw invalid("The 'reason' parameter is required", "Parameters.parameter.where(name='reason')");
  }
  const field = "Parameters.parameter.where(name='patient')";
  const ins = insFromToken(`${patientParam.system}|${patientParam.value}`, field, ctx.config.testInsOids);
  const { patient } = await resolvePatientByIns(ctx, ins, field);
  const opened = await openEmergencyAccess(
    ctx,
    actor,
    { patient, mode: mode === 'samu' ? 'samu' : 'break_glass', reason },
    hours,
  );
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'id', valueId: opened.id },
      { name: 'end', valueDateTime: opened.endsAt.toISOString() },
    ],
  };
}
