import { describe, expect, it } from '@jest/globals';
import { brakeBucket } from './brake-bucket.js';

describe('brakeBucket', () => {
  it('counts an IPv4 client by its address and an IPv6 client by its /64, in any spelling', () => {
    expect(brakeBucket('192.0.2.7')).toBe('192.0.2.7');
    expect(brakeBucket('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(brakeBucket('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(brakeBucket('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(brakeBucket('2001:db8:1:2:aaaa::1%eth0')).toBe('2001:db8:1:2::/64');
    expect(brakeBucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(brakeBucket('::1')).toBe('::/64');
    expect(brakeBucket('not an address')).toBe('not an address');
  });
});
