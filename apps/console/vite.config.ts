import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console is served by the gateway under /console/ from dist/console. Nothing may run
 * inline (the page's Content-Security-Policy forbids it), so no inline module-preload helper
 * and no inlined assets.
 */
export default defineConfig({
  root,
  base: '/console/',
  // The console imports zod-free files of libs/contracts (constants) and types from the rest.
  resolve: { alias: { '@app/contracts': fileURLToPath(new URL('../../libs/contracts/src', import.meta.url)) } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: { strictPort: false },
});
