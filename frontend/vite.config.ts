import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath, URL } from "node:url";
import { loadEnv, type Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { contentSecurityPolicy } from "./src/lib/csp";

// Dev mode: `npm run dev` serves on :5173 and proxies /api to the HTTP API of `make up` (which sends
// no CORS headers, so the browser must see one origin). KAFKAGRAM_API overrides the target.
const api = process.env.KAFKAGRAM_API ?? "http://127.0.0.1:3000";

/** The build's Content-Security-Policy as a <meta> right after the charset one (which must stay in the
 * first 1024 bytes), before any script (src/lib/csp.ts says what it allows). Builds only: the dev
 * server's React refresh preamble is an inline script. */
function contentSecurityPolicyMeta(): Plugin {
  let policy = "";
  return {
    name: "kafkagram-csp",
    apply: "build",
    configResolved(config) {
      const env = { ...loadEnv(config.mode, config.envDir || config.root, ["VITE_", "KAFKAGRAM_"]), ...process.env };
      policy = contentSecurityPolicy({
        apiUrl: env.VITE_API_URL, wsUrl: env.VITE_WS_URL, mediaOrigins: env.KAFKAGRAM_MEDIA_ORIGINS,
      });
    },
    transformIndexHtml(html) {
      const charset = /<meta charset="[^"]*"\s*\/?>/i.exec(html);
      if (!charset) throw new Error("index.html needs <meta charset> first in <head>: the CSP goes after it");
      const meta = `<meta http-equiv="Content-Security-Policy" content="${policy.replaceAll("\"", "&quot;")}" />`;
      const end = charset.index + charset[0].length;
      return `${html.slice(0, end)}\n    ${meta}${html.slice(end)}`;
    },
  };
}

export default defineConfig({
  plugins: [react(), tailwindcss(), contentSecurityPolicyMeta()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  server: { host: "127.0.0.1", port: 5173, proxy: { "/api": { target: api, changeOrigin: true } } },
  // Pages are lazy chunks (src/app/router.tsx); `npm run check:size` holds the first load to its budget.
  build: { outDir: "dist", sourcemap: true },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
