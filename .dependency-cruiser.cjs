/**
 * The dependency rules of ARCHITECTURE.md, checked in CI (`npm run lint`).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'platform-is-the-bottom',
      comment: 'platform/ never imports modules, fhir, http or the app.',
      severity: 'error',
      from: { path: '^src/platform/' },
      to: { path: '^src/(modules|fhir|http|app|main|cli|demo|runtime)' },
    },
    {
      name: 'modules-through-index',
      comment: 'A module imports another module only through its index.ts.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/(?!index\\.ts$)', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'fhir-through-index',
      comment: 'The FHIR layer reaches modules only through their index.ts.',
      severity: 'error',
      from: { path: '^src/fhir/' },
      to: { path: '^src/modules/[^/]+/(?!index\\.ts$)' },
    },
    {
      name: 'routes-never-touch-repositories',
      severity: 'error',
      from: { path: '(\\.routes\\.ts|^src/fhir/.*)$' },
      to: { path: '\\.repository\\.ts$' },
    },
    {
      name: 'repositories-only-from-their-module',
      comment: 'SQL lives in one place per module; only that module calls it.',
      severity: 'error',
      from: { path: '^src/(?!modules/([^/]+)/)' },
      to: { path: '^src/modules/[^/]+/.*\\.repository\\.ts$' },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
