/**
 * Draws the demo's app icons (`public/*.png`, for the web app manifest and iOS) from the same
 * shapes as `public/icon.svg`: a check mark on TodoMVC's red. Node alone (no image tool), so the
 * icons can be redrawn anywhere:
 *
 *   pnpm --filter @strata/demo icons
 *
 * The PNGs are committed; the build only copies them.
 */
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

type Point = readonly [number, number];

/** One icon: its size, whether it fills the whole square (maskable), and the file. */
interface Icon {
  readonly file: string;
  readonly size: number;
  /** Maskable icons are cropped to a circle by some launchers: full bleed, mark in the middle 60%. */
  readonly maskable: boolean;
}

const ICONS: readonly Icon[] = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'icon-maskable-512.png', size: 512, maskable: true },
  { file: 'apple-touch-icon.png', size: 180, maskable: true },
];

const RED: readonly [number, number, number] = [0xb8, 0x3f, 0x45];
/** The check mark on a 512 × 512 canvas (as in icon.svg), and its stroke width. */
const MARK: readonly Point[] = [
  [136, 270],
  [216, 350],
  [376, 166],
];
const STROKE = 48;
const CORNER = 96;
/** Samples per pixel side, for smooth edges. */
const SAMPLES = 4;

function distanceToSegment([px, py]: Point, [ax, ay]: Point, [bx, by]: Point): number {
  const [dx, dy] = [bx - ax, by - ay];
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** Inside the rounded square of side 512 (corner radius `CORNER`)? */
function insideBackground([x, y]: Point): boolean {
  const cx = Math.min(Math.max(x, CORNER), 512 - CORNER);
  const cy = Math.min(Math.max(y, CORNER), 512 - CORNER);
  return Math.hypot(x - cx, y - cy) <= CORNER;
}

function onMark(point: Point, scale: number): boolean {
  // Scaled about the centre: the maskable icon keeps its mark in the safe zone.
  const [x, y] = point;
  const unscaled: Point = [256 + (x - 256) / scale, 256 + (y - 256) / scale];
  for (let i = 0; i + 1 < MARK.length; i++) {
    if (distanceToSegment(unscaled, MARK[i] as Point, MARK[i + 1] as Point) <= STROKE / 2) {
      return true;
    }
  }
  return false;
}

/** RGBA rows, each led by PNG's filter byte (0: none). */
function draw(icon: Icon): Buffer {
  const { size, maskable } = icon;
  const stride = size * 4 + 1;
  const pixels = Buffer.alloc(stride * size);
  const scale = maskable ? 0.8 : 1;
  for (let row = 0; row < size; row++) {
    for (let column = 0; column < size; column++) {
      let background = 0;
      let mark = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const point: Point = [
            ((column + (sx + 0.5) / SAMPLES) * 512) / size,
            ((row + (sy + 0.5) / SAMPLES) * 512) / size,
          ];
          if (!maskable && !insideBackground(point)) continue;
          background++;
          if (onMark(point, scale)) mark++;
        }
      }
      const samples = SAMPLES * SAMPLES;
      const white = background === 0 ? 0 : mark / background;
      const offset = row * stride + 1 + column * 4;
      for (let channel = 0; channel < 3; channel++) {
        const red = RED[channel] as number;
        pixels[offset + channel] = Math.round(red + (255 - red) * white);
      }
      pixels[offset + 3] = Math.round((255 * background) / samples);
    }
  }
  return pixels;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(icon: Icon): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(icon.size, 0);
  header.writeUInt32BE(icon.size, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(6, 9); // colour type: RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(draw(icon), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

for (const icon of ICONS) {
  writeFileSync(new URL(`./public/${icon.file}`, import.meta.url), png(icon));
  console.log(`public/${icon.file} (${icon.size} × ${icon.size})`);
}
