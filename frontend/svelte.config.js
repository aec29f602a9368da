import adapter from '@sveltejs/adapter-static';

/** @type {import('@sveltejs/kit').Config} */
export default {
	kit: {
		// The one page is prerendered to build/index.html with its markup; a separate SPA
		// fallback would overwrite it with an empty shell, so there is none.
		adapter: adapter({ pages: 'build', assets: 'build', strict: true })
	}
};
