// ESLint (flat config): typescript-eslint's recommended rules on every TypeScript file of the project. Formatting is
// Prettier's job (.prettierrc.json), so no stylistic rule is enabled here. Every rule turned off says why.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", ".pulumi-state/", "plan-out/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts", "**/*.mjs"],
        languageOptions: { globals: globals.node, ecmaVersion: 2023, sourceType: "module" },
        rules: {
            // tsc (noUnusedLocals/noUnusedParameters) already reports these, with the compiler's own rules for `_`.
            "@typescript-eslint/no-unused-vars": "off",
        },
    },
    {
        // Host-side Node scripts (cloud-init/*.js): plain CommonJS that the host's Node runs as it is, no build step.
        files: ["cloud-init/**/*.js"],
        languageOptions: { globals: globals.node, ecmaVersion: 2023, sourceType: "commonjs" },
        rules: {
            "@typescript-eslint/no-require-imports": "off",
        },
    },
    {
        files: ["test/**/*.ts"],
        rules: {
            // Tests read JSON documents (plan rows, workflow YAML, rendered configs) and assert their shape field by field.
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
    {
        files: ["policy/**/*.ts"],
        rules: {
            // @pulumi/policy hands resource props over as untyped JSON (`props: any`); the policies read them defensively.
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
);
