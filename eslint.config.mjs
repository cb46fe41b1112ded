// ESLint (flat config) for the UI's JavaScript: `make lint-js`, run by .ci/run. A development
// tool only: package.json pins it, node_modules/ is never served, and the UI has no build step.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['maps/static/vendor/**'] },
  js.configs.recommended,
  {
    files: ['maps/static/js/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.browser },
  },
  {
    files: ['tests/js/**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
  },
];
