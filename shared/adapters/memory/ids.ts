import { createHash, randomUUID } from 'node:crypto';
import type { Ids } from '../../ports/ids.port.js';

export function createIds(): Ids {
  return {
    newId: (prefix) => `${prefix}_${randomUUID()}`,
    derivedId: (causeId, n) => {
      const hex = createHash('sha256').update(`${causeId}#${n}`).digest('hex');
      // Version 8 (custom) and the RFC 9562 variant bits, so strict UUID validators accept it.
      const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
  };
}
