// ESLint for the widget's source (widget_js/src): the recommended rules, browser globals, ES modules.
// The build script runs on Node; the bundle (widget_js/widget.js) is generated and not linted.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["widget_js/widget.js", "node_modules/", ".venv/", "bench-before/"] },
  js.configs.recommended,
  {
    files: ["widget_js/src/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
    rules: {
      "no-var": "error",
      "prefer-const": "error",
      eqeqeq: ["error", "always", { null: "ignore" }],
      "object-shorthand": "error",
      "prefer-arrow-callback": "error",
    },
  },
  {
    files: ["widget_js/build.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.node },
  },
];
