/**
 * `crab embed`: WavLM hidden states of audio files, as safetensors.
 * @module
 */
import { parseArgs } from 'node:util';
import { loadWavLM } from '../model/pretrained.js';
import { audioFiles, embedFiles } from '../data/embed.js';
import { usage, num, fetchModel, type Command } from './common.js';

/** `crab embed`. */
export const embedCommand: Command = {
  summary: 'WavLM hidden states of audio files, saved as safetensors',
  device: true,
  help: `crab embed --model DIR|org/name [options] <audio files or folders...>
Runs WavLM over each file alone (16 kHz mono after resampling; WAV read directly, other formats
through ffmpeg) and writes the chosen layers' hidden states to one safetensors file
(tensors "<file stem>.layer<k>", [frames, hidden]). Unreadable files are listed and skipped.
--model DIR|org/name   a Hugging Face WavLM folder, or an id in the Hugging Face cache
--layers 0,6,12        hidden states to keep (0 = input of the first layer; default: last)
--out FILE             (default embeddings.safetensors)
--max-seconds S        truncate longer files
--normalize            zero-mean, unit-variance per file (what WavLM-large expects)`,
  async run(argv) {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
      model: { type: 'string' }, layers: { type: 'string' }, out: { type: 'string', default: 'embeddings.safetensors' },
      'max-seconds': { type: 'string' }, normalize: { type: 'boolean', default: false },
    } });
    if (!values.model) usage('--model is required');
    if (!positionals.length) usage('give audio files or folders');
    const files = audioFiles(positionals);
    if (!files.length) usage(`no audio files (${[...'wav flac mp3 ogg m4a mp4 opus'.split(' ')].join(', ')}) under ${positionals.join(', ')}`);
    const model = loadWavLM(await fetchModel(values.model, []));
    const layers = values.layers?.split(',').map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 0) usage(`--layers takes non-negative integers, not "${x}"`);
      return n;
    });
    const r = await embedFiles(model, files, values.out, { layers, maxSeconds: values['max-seconds'] ? num('--max-seconds', values['max-seconds']) : undefined, normalize: values.normalize });
    console.log(`wrote ${r.written} file(s) to ${values.out}`);
    for (const s of r.skipped) console.error(`skipped ${s.reason}`);
  },
};
