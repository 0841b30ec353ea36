import { BlockList, isIP } from 'node:net';

/**
 * IP allowlists: IPv4 and IPv6 addresses and CIDR blocks. Entries are normalised when a key is
 * written (`10.0.0.7` → `10.0.0.7/32`), and matched with Node's `BlockList` when a key is used.
 */

export const MAX_ALLOWED_IPS = 50;

/** `a.b.c.d[/n]` or an IPv6 address with an optional `/n`, normalised; undefined if invalid. */
export function normaliseCidr(entry: string): string | undefined {
  const [address = '', prefix, ...rest] = entry.trim().split('/');
  if (rest.length > 0) return undefined;
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return undefined;
  return `${address.toLowerCase()}/${bits}`;
}

const lists = new Map<string, BlockList>();

/** Whether `ip` falls in any of the (normalised) CIDRs. Memoised per list. */
export function ipAllowed(cidrs: readonly string[], ip: string | null | undefined): boolean {
  if (!ip) return false;
  const address = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const family = isIP(address);
  if (family === 0) return false;
  const memoKey = cidrs.join(',');
  let list = lists.get(memoKey);
  if (!list) {
    list = new BlockList();
    for (const cidr of cidrs) {
      const [base = '', bits = ''] = cidr.split('/');
      list.addSubnet(base, Number(bits), isIP(base) === 4 ? 'ipv4' : 'ipv6');
    }
    lists.set(memoKey, list);
  }
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether every address of the (normalised) CIDR `inner` lies in one of `outers`: the narrower
 * block's prefix is at least as long, and its address falls in the wider block (then all of its
 * addresses do, since they share at least the wider block's prefix).
 */
export function cidrWithin(inner: string, outers: readonly string[]): boolean {
  const [address = '', bits = ''] = inner.split('/');
  const family = isIP(address);
  return outers.some((outer) => {
    const [base = '', outerBits = ''] = outer.split('/');
    return (
      isIP(base) === family && Number(bits) >= Number(outerBits) && ipAllowed([outer], address)
    );
  });
}
