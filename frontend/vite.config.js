import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
	plugins: [sveltekit()],
	// `npm run dev` proxies the API and the WebSocket to a reference server on port 8000.
	server: {
		proxy: {
			'/api': 'http://127.0.0.1:8000',
			'/ws': { target: 'ws://127.0.0.1:8000', ws: true }
		}
	}
});
