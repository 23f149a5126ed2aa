// The Lambda entry: each export is one function of template.yaml (handler `index.<name>`).
export { makeThumbnail, recordThumbnail, indexImage } from './glue/handlers.mjs';
