// One static page: prerendered at build time, the flow itself runs in the browser.
export const prerender = true;
