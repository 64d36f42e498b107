import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

const FEATURES = ["auth", "feed", "posts", "upload", "profile", "notifications", "explore"];

// Features do not import each other (compose them in src/app); shared code (lib, components) imports
// no feature and no app code.
const featureBoundaries = FEATURES.map((feature) => ({
  files: [`src/features/${feature}/**/*.{ts,tsx}`],
  rules: {
    "no-restricted-imports": ["error", {
      patterns: [
        {
          group: FEATURES.filter((f) => f !== feature).flatMap((f) => [`@/features/${f}`, `@/features/${f}/*`, `**/features/${f}`, `**/features/${f}/*`, `../../${f}`, `../../${f}/*`]),
          message: "Features do not import each other: compose them in src/app.",
        },
        { group: ["@/app", "@/app/*", "**/app/*"], message: "Features do not import the app layer." },
      ],
    }],
  },
}));

export default tseslint.config(
  { ignores: ["dist", "node_modules", "src/lib/api-schema.d.ts"] },
  {
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    files: ["**/*.{ts,tsx,js,mjs}"],
    languageOptions: { ecmaVersion: 2023, globals: { ...globals.browser, ...globals.node } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  ...featureBoundaries,
  {
    files: ["src/lib/**/*.{ts,tsx}", "src/components/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: ["@/features/*", "@/app", "@/app/*", "**/features/*", "**/app/*"], message: "Shared code imports no feature and no app code." }],
      }],
    },
  },
);
