'use strict';
// PNG checks shared by the Node client's tests and the browser test.
const assert = require('node:assert/strict');
const zlib = require('node:zlib');

/** [width, height] of a PNG after checking its signature, chunk CRCs and the inflated pixel data length. */
function pngSize(data) {
  assert.deepEqual([...data.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let pos = 8; let width; let height; let color; const idat = [];
  while (pos < data.length) {
    const length = data.readUInt32BE(pos);
    const kind = data.toString('latin1', pos + 4, pos + 8);
    const crc = data.readUInt32BE(pos + 8 + length);
    assert.equal(zlib.crc32(data.subarray(pos + 4, pos + 8 + length)), crc, `CRC of ${kind}`);
    if (kind === 'IHDR') { width = data.readUInt32BE(pos + 8); height = data.readUInt32BE(pos + 12); color = data[pos + 17]; }
    if (kind === 'IDAT') idat.push(data.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
    if (kind === 'IEND') break;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[color];
  assert.equal(zlib.inflateSync(Buffer.concat(idat)).length, height * (1 + width * channels));
  return [width, height];
}

module.exports = { pngSize };
