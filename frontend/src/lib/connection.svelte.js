// The page's one WebSocket to the server that served it, and the state the UI shows:
// every message received, the prompt awaiting an answer, the flow's status.
import { parseFrame } from './messages.js';

/** @typedef {import('./messages.js').Message} Message */

class Connection {
	/** @type {string[]} flow names from GET /api/flows */
	flows = $state(['osb']);
	/** @type {Message[]} */
	messages = $state([]);
	/** @type {{ text: string, options: string[] } | null} the latest unanswered ui_message */
	prompt = $state(null);
	/** @type {'idle' | 'running' | 'completed'} */
	status = $state('idle');
	lost = $state(false);

	/** @type {Promise<WebSocket> | null} */
	#socket = null;
	#started = false;

	async loadFlows() {
		const response = await fetch('/api/flows');
		if (response.ok) this.flows = (await response.json()).flow_choices;
	}

	/**
	 * Start a flow, opening the socket first if this page has none yet.
	 * @param {string} flow
	 * @param {string} prompt
	 */
	async start(flow, prompt) {
		this.prompt = null;
		this.status = 'running';
		this.#started = false;
		await this.#send({ type: 'run_flow', flow, prompt });
	}

	/** @param {string} option a button of the prompt: confirm, reject or any other option */
	choose(option) {
		const confirm = option === 'confirm';
		return this.#answer({ confirm, selection: option, content: option });
	}

	/** @param {string} content free text typed into the reply box */
	reply(content) {
		return this.#answer({ confirm: false, content });
	}

	/** @param {Record<string, unknown>} fields */
	async #answer(fields) {
		this.prompt = null;
		await this.#send({ type: 'manager_response', ...fields });
	}

	/** @param {Record<string, unknown>} message */
	async #send(message) {
		this.#socket ??= this.#open();
		try {
			(await this.#socket).send(JSON.stringify(message));
		} catch {
			this.lost = true;
		}
	}

	/** @returns {Promise<WebSocket>} */
	async #open() {
		const { session_id } = await (await fetch('/api/session')).json();
		const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
		const socket = new WebSocket(`${scheme}//${location.host}/ws/${encodeURIComponent(session_id)}`);
		socket.addEventListener('message', (event) => this.#receive(String(event.data)));
		socket.addEventListener('close', () => (this.lost = true));
		return new Promise((resolve, reject) => {
			socket.addEventListener('open', () => resolve(socket), { once: true });
			socket.addEventListener('error', reject, { once: true });
		});
	}

	/** @param {string} frame */
	#receive(frame) {
		const message = parseFrame(frame, this.messages.length);
		this.messages.push(message);
		const outputs = message.outputs;
		if (message.type === 'ui_message') {
			const options = optionsOf(outputs?.options);
			this.prompt = { text: message.text, options };
		} else if (message.type === 'system_message') {
			if (outputs?.content === 'flow_completed') {
				this.prompt = null;
				this.status = 'completed';
			} else if (String(outputs?.content).startsWith('flow_started')) {
				this.#started = true;
			}
		} else if (message.kind === 'error' && outputs?.source === 'server' && !this.#started) {
			this.status = 'idle'; // the run_flow was refused: nothing is running
		}
	}
}

/**
 * A prompt's buttons: a list of options, or confirm and reject for `options: true` (a yes/no
 * question); none for a free-text prompt.
 * @param {unknown} options
 * @returns {string[]}
 */
function optionsOf(options) {
	if (options === true) return ['confirm', 'reject'];
	return Array.isArray(options) ? options.map(String) : [];
}

export const connection = new Connection();
