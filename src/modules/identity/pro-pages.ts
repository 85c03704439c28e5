import type { ProSessionView } from './pro-signin.ts';
import type { TestAuthorizeRequest } from './oidc-test-provider.ts';

/**
 * The few HTML pages of professional sign-in and of the local test provider (French; no script,
 * served with a Content-Security-Policy that forbids everything but inline style and own forms).
 */

export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return (
    `<!doctype html><html lang="fr"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title>` +
    `<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}` +
    `.warn{background:#fff3cd;border:2px solid #c90;padding:.75rem 1rem}` +
    `label{display:block;margin:.3rem 0}button{font-size:1rem;padding:.4rem 1rem;margin-top:1rem}</style>` +
    `</head><body>${body}</body></html>`
  );
}

/** /pro/ : who is signed in, or the sign-in button. */
export function proHomePage(session: ProSessionView | undefined): string {
  if (!session) {
    return page(
      'Carnet — espace professionnel',
      `<h1>Espace professionnel</h1><p>Les professionnels de santé se connectent avec Pro Santé Connect ` +
        `(carte CPS ou application e-CPS). Aucune connexion par mot de passe.</p>` +
        `<p><a href="/pro/login">Se connecter avec Pro Santé Connect</a></p>`,
    );
  }
  const p = session.professional;
  const org = session.organization
    ? `<p>Structure : ${escapeHtml(session.organization.name)}</p>`
    : `<p>Aucune structure connue : la consultation des dossiers passe par votre logiciel.</p>`;
  return page(
    'Carnet — espace professionnel',
    `<h1>Espace professionnel</h1><p>Connecté : ${escapeHtml(`${p.given} ${p.family}`)} ` +
      `(RPPS ${escapeHtml(p.rpps)})</p>${org}` +
      `<form method="post" action="/pro/logout"><button type="submit">Se déconnecter</button></form>`,
  );
}

/** A refused sign-in (403) or an unreachable provider (503). */
export function proErrorPage(status: number, reason: string): string {
  const title = status === 403 ? 'Connexion refusée' : 'Connexion impossible pour le moment';
  return page(
    `Carnet — ${title}`,
    `<h1>${title}</h1><p>${escapeHtml(reason)}</p><p lang="en">(${status})</p>` +
      `<p><a href="/pro/login">Recommencer la connexion</a></p>`,
  );
}

/** The test provider's error page (a bad authorization request: never redirected). */
export function testProviderErrorPage(reason: string): string {
  return page(
    'Fournisseur de TEST — requête refusée',
    `<p class="warn">Fournisseur d’identité de TEST</p><h1>Requête d’autorisation refusée</h1>` +
      `<p>${escapeHtml(reason)}</p>`,
  );
}

/** The test provider's sign-in page: pick a professional; no password — it is a TEST provider. */
export function testProviderLoginPage(
  request: TestAuthorizeRequest,
  professionals: ReadonlyArray<{
    rpps: string;
    given: string;
    family: string;
    profession_code: string;
    active: boolean;
  }>,
): string {
  const hidden = (
    [
      ['client_id', request.clientId],
      ['redirect_uri', request.redirectUri],
      ['response_type', 'code'],
      ['scope', request.scope],
      ['state', request.state],
      ['nonce', request.nonce],
      ['code_challenge', request.codeChallenge],
      ['code_challenge_method', 'S256'],
    ] as const
  )
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('');
  const choices = professionals
    .map(
      (p, i) =>
        `<label><input type="radio" name="rpps" value="${escapeHtml(p.rpps)}"${i === 0 ? ' checked' : ''}> ` +
        `${escapeHtml(`${p.given} ${p.family}`)} — RPPS ${escapeHtml(p.rpps)} — profession ${escapeHtml(p.profession_code)}` +
        `${p.active ? '' : ' (désactivé)'}</label>`,
    )
    .join('');
  return page(
    'Fournisseur d’identité de TEST (Pro Santé Connect simulé)',
    `<p class="warn"><strong>Fournisseur d’identité de TEST.</strong> Il simule Pro Santé Connect pour ` +
      `le mode intégré et les tests : aucune authentification réelle, aucun mot de passe. ` +
      `Ne jamais l’activer en production. <span lang="en">(TEST identity provider — no real authentication.)</span></p>` +
      `<h1>Choisir le professionnel</h1>` +
      `<form method="post" action="authorize">${hidden}` +
      (choices || '<p>Aucun professionnel dans l’annuaire.</p>') +
      `<label>Ou un autre RPPS / IDNPS : <input name="other_rpps" inputmode="numeric" maxlength="14"></label>` +
      `<button type="submit">Se connecter</button> ` +
      `<button type="submit" name="cancel" value="1">Annuler</button></form>`,
  );
}
