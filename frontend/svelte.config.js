import adapter from '@sveltejs/adapter-static';

const UI = '../src/flowwright_demo/ui';

/** @type {import('@sveltejs/kit').Config} */
export default {
	kit: {
		// The one page is prerendered to index.html with its markup; a separate SPA fallback
		// would overwrite it with an empty shell, so there is none. The output is package data
		// of the reference server (found with importlib.resources, shipped in its wheel).
		adapter: adapter({ pages: UI, assets: UI, strict: true })
	}
};
