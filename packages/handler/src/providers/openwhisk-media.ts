/**
 * Whether the OpenWhisk controller treats a web action's media type as binary (base64 in
 * `__ow_body`, base64 expected in a `.http` result's string `body`) or as text.
 *
 * The controller reads the Content-Type with akka-http's parser (`HttpHeaderParser.getMediaType`):
 * a type in akka-http's `MediaTypes` registry keeps its class whatever its parameters
 * (`registered.withParams(params)`, so `application/octet-stream; charset=utf-8` stays binary);
 * an unregistered type is text when it carries a `charset` (`customWithOpenCharset`) and binary
 * otherwise (`customBinary`); every `multipart/*` is binary. The tables below are that
 * registry (akka/akka-http `MediaType.scala`, `object MediaTypes`; keys are lower-cased).
 */
import { isJsonMediaType, type MediaType } from '../internal/media-type.js';

function registry(byType: Record<string, string>): ReadonlySet<string> {
  return new Set(Object.entries(byType).flatMap(([type, subtypes]) => subtypes.trim().split(/\s+/).map((sub) => `${type}/${sub}`)));
}

/** Registered textual types (`txt`, `txtfc`, `awoc`, `awfc`). */
const REGISTERED_TEXT = registry({
  text: `asp cache-manifest calendar css csv event-stream html markdown mcf plain richtext tab-separated-values uri-list
    vnd.wap.wml vnd.wap.wmlscript x-asm x-c x-component x-h x-java-source x-pascal x-script x-scriptcsh x-scriptelisp
    x-scriptksh x-scriptlisp x-scriptperl x-scriptperl-module x-scriptphyton x-scriptrexx x-scriptscheme x-scriptsh
    x-scripttcl x-scripttcsh x-scriptzsh x-server-parsed-html x-setext x-sgml x-speech x-uuencode x-vcalendar x-vcard xml`,
  application: `atom+xml base64 javascript json json-patch+json merge-patch+json problem+json problem+xml rss+xml soap+xml
    vnd.api+json vnd.google-earth.kml+xml x-latex x-vrml x-www-form-urlencoded xhtml+xml xml xml-dtd`,
});

/** Registered binary types (`abin`, `aud`, `fnt`, `img`, `msg`, `vid`). */
const REGISTERED_BINARY = registry({
  application: `cbor excel font-woff gnutar java-archive grpc+proto lha lzx mspowerpoint msword octet-stream pdf postscript
    vnd.google-earth.kmz vnd.ms-excel vnd.ms-excel.addin.macroenabled.12 vnd.ms-excel.sheet.binary.macroenabled.12
    vnd.ms-excel.sheet.macroenabled.12 vnd.ms-excel.template.macroenabled.12 vnd.ms-fontobject vnd.ms-powerpoint
    vnd.ms-powerpoint.addin.macroenabled.12 vnd.ms-powerpoint.presentation.macroenabled.12
    vnd.ms-powerpoint.slideshow.macroenabled.12 vnd.ms-word.document.macroenabled.12 vnd.ms-word.template.macroenabled.12
    vnd.oasis.opendocument.chart vnd.oasis.opendocument.database vnd.oasis.opendocument.formula
    vnd.oasis.opendocument.graphics vnd.oasis.opendocument.image vnd.oasis.opendocument.presentation
    vnd.oasis.opendocument.spreadsheet vnd.oasis.opendocument.text vnd.oasis.opendocument.text-master
    vnd.oasis.opendocument.text-web vnd.openxmlformats-officedocument.presentationml.presentation
    vnd.openxmlformats-officedocument.presentationml.slide vnd.openxmlformats-officedocument.presentationml.slideshow
    vnd.openxmlformats-officedocument.presentationml.template vnd.openxmlformats-officedocument.spreadsheetml.sheet
    vnd.openxmlformats-officedocument.spreadsheetml.template vnd.openxmlformats-officedocument.wordprocessingml.document
    vnd.openxmlformats-officedocument.wordprocessingml.template x-7z-compressed x-ace-compressed x-apple-diskimage
    x-arc-compressed x-bzip x-bzip2 x-chrome-extension x-compress x-compressed x-debian-package x-dvi x-font-truetype
    x-font-opentype x-gtar x-gzip x-rar-compressed x-redhat-package-manager x-shockwave-flash x-tar x-tex x-texinfo
    x-x509-ca-cert x-xpinstall zip`,
  audio: 'aiff basic midi mod mpeg ogg voc vorbis voxware wav x-pn-realaudio x-psid xm webm',
  font: 'woff woff2',
  image: `gif jpeg pict png svg+xml tiff x-icon x-ms-bmp x-pcx x-pict x-quicktime x-rgb x-xbitmap x-xpixmap webp`,
  message: 'http delivery-status rfc822',
  video: `avs-video divx gl mp4 mpeg ogg quicktime x-dv x-flv x-motion-jpeg x-ms-asf x-msvideo x-sgi-movie webm`,
});

/**
 * Whether the controller treats this media type as binary. A request without a content type
 * reaches akka-http as `application/octet-stream`: binary.
 */
export function isOpenWhiskBinaryMedia(mt: MediaType | undefined): boolean {
  if (!mt || mt.type === 'multipart') return true;
  if (REGISTERED_TEXT.has(mt.essence)) return false;
  if (REGISTERED_BINARY.has(mt.essence)) return true;
  return !mt.charset;
}

/**
 * Whether the controller reads this media type as JSON (`WhiskWebActionsApi.isJsonFamily`:
 * `mt == application/json || mt.value.endsWith("+json")`): `application/json` or a `+json`
 * type, with no parameter other than `charset`. akka-http's parser takes `charset` out of the
 * media type and keeps every other parameter in its `value`, so `application/json; v=2` and
 * `application/ld+json; profile="…"` are not JSON to the controller: a request body under them
 * is text or base64 in `__ow_body` by the type's class, and a result body must be a string.
 */
export function isOpenWhiskJsonMedia(mt: MediaType | undefined): boolean {
  return isJsonMediaType(mt) && Object.keys(mt!.params).length === 0;
}

/**
 * `application/json` exactly (no parameter but `charset`): the type whose raw request body the
 * controller still base64-encodes "for legacy" although it is textual.
 */
export function isOpenWhiskLegacyJson(mt: MediaType | undefined): boolean {
  return mt?.essence === 'application/json' && Object.keys(mt.params).length === 0;
}
