import { createCipheriv, scryptSync } from 'node:crypto';

/**
 * A Firebase scrypt hash built from the published formula (contract §4) with node:crypto, independently of the
 * server's verifier: hash = AES-256-CTR(key = scrypt(pw, salt ‖ separator, 2^n, r, p, 32), IV = 0)(signer key).
 */
export function firebaseScryptHash(
  password: string,
  o: { n?: number; r?: number; p?: number; salt?: Buffer; separator?: Buffer; signerKey?: Buffer } = {},
): string {
  const { n = 10, r = 4, p = 1 } = o;
  const salt = o.salt ?? Buffer.from('made-up-salt-16b');
  const separator = o.separator ?? Buffer.from([0x07]);
  const signerKey = o.signerKey ?? Buffer.from('a made-up signer key of sixty-four bytes, for tests only ........');
  const key = scryptSync(Buffer.from(password, 'utf8'), Buffer.concat([salt, separator]), 32, { N: 2 ** n, r, p });
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const hash = Buffer.concat([cipher.update(signerKey), cipher.final()]);
  const b64 = (b: Buffer) => b.toString('base64');
  return `$fbscrypt$v=1,n=${n},r=${r},p=${p},ss=${b64(separator)},sk=${b64(signerKey)}$${b64(salt)}$${b64(hash)}`;
}

/**
 * Firebase's own published example (the firebase/scrypt README): password "user1password" under these project
 * parameters. It pins the verifier to Firebase's real output, not only to our reading of the formula.
 */
export const FIREBASE_README_EXAMPLE = {
  password: 'user1password',
  hash:
    '$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==,sk=jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==' +
    '$42xEC+ixf3L2lw==$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
};
