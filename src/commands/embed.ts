/**
 * `crab embed`: WavLM hidden states of audio files, as safetensors, with an index from inputs to
 * tensor names.
 * @module
 */
import { initDevice } from '../tensor/device.js';
import { loadWavLM } from '../model/pretrained.js';
import { readWavLMConfig } from '../model/wavlm.js';
import { audioFiles, embedFiles } from '../data/embed.js';
import { newThroughput, throughputLine } from '../data/features.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import { usage, fetchModel, type Command } from './common.js';
import { printJson, type EmbedJson } from './json.js';

const FLAGS = {
  model: { type: 'string', arg: 'DIR|org/name', required: true, help: 'a Hugging Face WavLM folder, or an id in the Hugging Face cache' },
  layers: { type: 'string', arg: '0,6,12', help: 'hidden states to keep (0 = input of the first layer; default: the last)' },
  out: { type: 'string', arg: 'FILE', default: 'embeddings.safetensors', help: 'the safetensors file (its index: FILE.index.json)' },
  'max-seconds': { type: 'number', min: 0.025, arg: 'S', help: 'truncate longer files' },
  normalize: { type: 'boolean', help: 'zero-mean, unit-variance per file (what WavLM-large expects)' },
  json: { type: 'boolean', help: 'print one JSON document (EmbedJson) on stdout' },
} satisfies FlagTable;

/** `crab embed`. */
export const embedCommand: Command = {
  summary: 'WavLM hidden states of audio files, saved as safetensors',
  usage: 'crab embed --model DIR|org/name [options] AUDIO-FILES-OR-FOLDERS…',
  description: `Runs WavLM over each file alone (16 kHz mono after resampling; WAV, FLAC, MP3 and Ogg Opus read
directly, other formats through ffmpeg) and writes the chosen layers' hidden states to one safetensors file: tensors
"<name>.layer<k>", [frames, hidden], where <name> is the file's path below the folder the inputs
share, without its extension (so a/x.wav and b/x.wav stay apart). FILE.index.json maps every
input to its tensors. Unreadable files are listed and skipped; when none can be read the exit
status is 1.`,
  flags: FLAGS,
  async run(argv) {
    const { values, positionals } = parseFlags('embed', FLAGS, argv, { positionals: true });
    if (!positionals.length) usage('embed: give audio files or folders');
    const layers = values.layers?.split(',').map((x) => {
      const n = Number(x.trim());
      if (!x.trim() || !Number.isInteger(n) || n < 0) usage(`embed: --layers: "${x}" is not allowed: expected non-negative integers separated by commas`);
      return n;
    });
    let files: string[];
    try {
      files = audioFiles(positionals);
    } catch (e) {
      usage(`embed: ${(e as Error).message}`);
    }
    if (!files.length) usage(`embed: no audio files (wav, flac, mp3, ogg, m4a, mp4, opus) under ${positionals.join(', ')}`);
    const dir = await fetchModel(values.model!, []);
    const L = readWavLMConfig(dir).num_hidden_layers;
    for (const l of layers ?? []) if (l > L) usage(`embed: --layers: ${l} is not allowed: this model has hidden states 0–${L}`);
    await initDevice();
    const model = loadWavLM(dir);
    const stats = newThroughput();
    const r = await embedFiles(model, files, values.out!, { layers, maxSeconds: values['max-seconds'], normalize: values.normalize, quiet: values.json, stats });
    for (const s of r.skipped) console.error(`skipped ${s.file}: ${s.reason}`);
    console.error(throughputLine('embed', stats));
    if (!r.written) throw new Error(`embed: none of the ${files.length} file(s) could be read (reasons above); nothing useful was written`);
    if (values.json) printJson({ out: values.out!, index: r.index, files: r.files, skipped: r.skipped } satisfies EmbedJson);
    else console.log(`wrote ${r.written} file(s) to ${values.out} (index: ${r.index})`);
  },
};
