// The three functions of the glue: an upload becomes a thumbnail, the thumbnail becomes a
// database record (and, in the same atomic write, an event), the event updates the search index.
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { handler, TerminalError } from '@steadyfn/handler';
import { canonicalHash, idempotency } from '@steadyfn/idempotency';
import { inbox } from '@steadyfn/outbox';
import { config, images, keys, records, s3, searchDb } from './app.mjs';
import { thumbnail } from './thumbnail.mjs';

const UPLOADS = 'uploads/';
const THUMBNAILS = 'thumbnails/';

/**
 * `uploads/red-teapot.png` → the image's id, its title and its thumbnail's key. The thumbnail
 * keeps the upload's whole name (a PNG whatever its extension says), so two uploads never
 * share one: `teapot.jpg` and `teapot.png` are two images.
 */
function imageOf(sourceKey) {
  const file = sourceKey.slice(UPLOADS.length);
  return {
    imageId: `img-${canonicalHash(sourceKey).slice(0, 20)}`,
    title: file.replace(/\.[a-z0-9]+$/i, '').replace(/[-_./]+/g, ' ').trim(),
    thumbnailKey: `${THUMBNAILS}${file}`,
  };
}

/**
 * An object created under uploads/ (S3 → SQS → here): reads it, writes its thumbnail under
 * thumbnails/. A redelivered notification is answered from its idempotency record.
 */
export const makeThumbnail = handler(
  { name: 'make-thumbnail', use: [idempotency({ store: records, ttlMs: 86_400_000 })] },
  async (upload, ctx) => {
    if (upload.op !== 'created' || !upload.key.startsWith(UPLOADS)) return { skipped: upload.key };
    const object = await s3.send(new GetObjectCommand({ Bucket: upload.bucket, Key: upload.key }), { abortSignal: ctx.signal });
    const bytes = Buffer.from(await object.Body.transformToByteArray());
    let thumb;
    try {
      thumb = await thumbnail(bytes, config.THUMBNAIL_WIDTH);
    } catch {
      // Not an image Jimp reads: retrying will not change that, so it goes to the dead-letter queue.
      throw new TerminalError('NOT_AN_IMAGE', `${upload.key} is not a PNG or JPEG image`);
    }
    const { thumbnailKey } = imageOf(upload.key);
    await s3.send(
      new PutObjectCommand({
        Bucket: upload.bucket,
        Key: thumbnailKey,
        Body: thumb.png,
        ContentType: 'image/png',
        Metadata: { source: upload.key, width: String(thumb.width), height: String(thumb.height) },
      }),
      { abortSignal: ctx.signal },
    );
    ctx.log.info('thumbnail written', { width: thumb.width, height: thumb.height, bytes: thumb.png.length });
    return { thumbnail: thumbnailKey, width: thumb.width, height: thumb.height };
  },
);

/**
 * A thumbnail created under thumbnails/: records the image in Redis and, in the same script,
 * its ImageRecorded event (outbox), relayed to the image-events queue right after. The write's
 * request key is the notification's delivery id, so a redelivery writes nothing twice.
 */
export const recordThumbnail = handler({ name: 'record-thumbnail', use: [images] }, async (created, ctx) => {
  if (created.op !== 'created' || !created.key.startsWith(THUMBNAILS)) return { skipped: created.key };
  const head = await s3.send(new HeadObjectCommand({ Bucket: created.bucket, Key: created.key }), { abortSignal: ctx.signal });
  const source = head.Metadata?.source;
  if (!source) throw new TerminalError('NOT_A_THUMBNAIL', `${created.key} has no source metadata`);
  const { imageId, title } = imageOf(source);
  const record = {
    imageId,
    bucket: created.bucket,
    source,
    thumbnail: created.key,
    title,
    width: Number(head.Metadata.width),
    height: Number(head.Metadata.height),
    bytes: head.ContentLength ?? created.size ?? 0,
    recordedAt: new Date().toISOString(),
  };
  ctx.outbox.call('HSET', keys.image(imageId), ...Object.entries(record).flat());
  ctx.outbox.add({ type: 'ImageRecorded', aggregateId: imageId, payload: record, change: { op: 'insert', after: record } });
  return { imageId };
});

/**
 * The image-events queue's consumer: each recorded image once (inbox), written to the search
 * index as one document (words of the title as its terms). The write is an upsert by id, so it
 * could repeat safely; the inbox spares the work.
 */
export const indexImage = handler({ name: 'index-image', use: [inbox({ store: records, consumer: 'search-index' })] }, async (_input, ctx) => {
  const image = ctx.inbox.event.change?.after ?? ctx.inbox.event.payload;
  const { db } = await searchDb.get();
  const document = {
    _id: image.imageId,
    title: image.title,
    terms: [...new Set(image.title.toLowerCase().split(/\s+/).filter(Boolean))],
    thumbnail: { bucket: image.bucket, key: image.thumbnail, width: image.width, height: image.height },
    source: image.source,
    indexedAt: new Date().toISOString(),
  };
  await searchDb.run(() => db.collection('search').replaceOne({ _id: document._id }, document, { upsert: true }), { safe: true });
  return { indexed: document._id, terms: document.terms };
});
