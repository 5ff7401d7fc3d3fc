// The layer-factory table: ModelConfig.model -> a function building layer `index` of that kind. Each layer file
// registers its kinds here; the language model (lm.ts) looks them up. Factories get an Init scoped to 'layers.i.'.
import { OptionError } from '../errors.js';
import type { Init } from './init.js';
import { createGruLayer, createLstmLayer } from './gru_lstm.js';
import { createMinRnnBlock } from './min_rnn.js';
import { createSruLayer } from './sru.js';
import { createSruppLayer } from './srupp.js';
import type { ModelConfig, SequenceLayer } from './types.js';

export type LayerFactory = (cfg: ModelConfig, index: number, init: Init) => SequenceLayer;

export const LAYER_FACTORIES: Readonly<Record<ModelConfig['model'], LayerFactory>> = {
  mingru: (cfg, index, init) => createMinRnnBlock('mingru', cfg, index, init),
  minlstm: (cfg, index, init) => createMinRnnBlock('minlstm', cfg, index, init),
  sru: createSruLayer,
  srupp: createSruppLayer,
  gru: createGruLayer,
  lstm: createLstmLayer,
};

/** The factory for a model kind, or a clear error naming the kinds that exist. */
export function layerFactory(model: string): LayerFactory {
  const f = Object.hasOwn(LAYER_FACTORIES, model) ? LAYER_FACTORIES[model as ModelConfig['model']] : undefined;
  if (!f) {
    const known = Object.keys(LAYER_FACTORIES).map((k) => `'${k}'`).join(', ');
    throw new OptionError(`model '${model}': no layer of that kind is registered (registered: ${known})`);
  }
  return f;
}
