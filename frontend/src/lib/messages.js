// What a server frame is and what it says: the browser's twin of flowwright.protocol's
// categorise() and text_of(). Pure functions, no I/O.

/** @typedef {'lifecycle'|'prompt'|'result'|'progress'|'error'|'chat'|'other'|'malformed'} Kind */

/**
 * @typedef {object} Message
 * @property {number} seq        position in the page's list (a key, never shown)
 * @property {Kind} kind
 * @property {string} type       the envelope's type ('' for a malformed frame)
 * @property {string} [agent]    agent_info.role, when the frame has one
 * @property {string} sender     who sent it: role, agent name or source ('' if unknown)
 * @property {string} text
 * @property {string[]} sources  a research result's literature sources
 * @property {Record<string, any> | null} outputs  the payload when it is an object
 */

const KINDS = /** @type {Record<string, Kind>} */ ({
	system_message: 'lifecycle',
	system_update: 'progress',
	system_error: 'error',
	ui_message: 'prompt',
	chat_message: 'chat',
	research_result: 'result',
	record: 'result',
	judge_reasons: 'result',
	assessments: 'result',
	differences: 'result'
});

const TEXT_KEYS = ['content', 'response', 'conclusion', 'message', 'text'];

/**
 * Parse one text frame into a displayable message; never throws.
 * @param {string} frame
 * @param {number} seq
 * @returns {Message}
 */
export function parseFrame(frame, seq) {
	let data;
	try {
		data = JSON.parse(frame);
	} catch {
		data = undefined;
	}
	if (!data || typeof data !== 'object' || Array.isArray(data) || typeof data.type !== 'string') {
		return { seq, kind: 'malformed', type: '', sender: '', text: frame, sources: [], outputs: null };
	}
	const outputs = data.outputs;
	const object = outputs && typeof outputs === 'object' && !Array.isArray(outputs) ? outputs : null;
	const info = data.agent_info && typeof data.agent_info === 'object' ? data.agent_info : {};
	const agent = typeof info.role === 'string' ? info.role : undefined;
	return {
		seq,
		kind: KINDS[data.type] ?? 'other',
		type: data.type,
		agent,
		sender: agent ?? info.agent_name ?? (typeof object?.source === 'string' ? object.source : ''),
		text: textOf(outputs, data.preview),
		sources: Array.isArray(object?.literature)
			? object.literature.map((/** @type {any} */ item) => item?.source).filter(Boolean)
			: [],
		outputs: object
	};
}

/**
 * The human-readable text of a payload, whatever its shape.
 * @param {unknown} outputs
 * @param {unknown} preview
 * @returns {string}
 */
function textOf(outputs, preview) {
	if (outputs === null || outputs === undefined) return typeof preview === 'string' ? preview : '';
	if (typeof outputs === 'string') return outputs;
	if (typeof outputs !== 'object' || Array.isArray(outputs)) return JSON.stringify(outputs);
	const data = /** @type {Record<string, unknown>} */ (outputs);
	const key = TEXT_KEYS.find((name) => typeof data[name] === 'string');
	if (key) return /** @type {string} */ (data[key]);
	if (typeof data.status === 'string') {
		// progress and task updates: "researcher started", "orchestrator waiting"
		const who = data.role ?? data.source ?? '';
		return `${who} ${data.status}${data.is_error ? ' (error)' : ''}`.trim();
	}
	return JSON.stringify(outputs);
}
