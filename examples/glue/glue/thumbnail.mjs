// Thumbnails with Jimp's own modules (pure JavaScript, nothing to compile): PNG and JPEG in,
// PNG out, scaled to a width with the aspect ratio kept.
import { createJimp } from '@jimp/core';
import jpeg from '@jimp/js-jpeg';
import png from '@jimp/js-png';
import { methods as resize } from '@jimp/plugin-resize';

const Jimp = createJimp({ formats: [png, jpeg], plugins: [resize] });

/** `bytes` (a PNG or JPEG) scaled down to `width` pixels wide (never up), as PNG. */
export async function thumbnail(bytes, width) {
  const image = await Jimp.read(bytes);
  if (image.width > width) image.resize({ w: width });
  return { png: await image.getBuffer('image/png'), width: image.width, height: image.height };
}
