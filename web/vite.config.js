import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// `npm run dev` proxies the API to a local `shouye serve`; `npm run build` writes dist/,
// which the server itself serves (hashed assets cached for a year, index.html revalidated).
export default defineConfig({
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1200 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/tmf-api': 'http://127.0.0.1:8080' } },
});
