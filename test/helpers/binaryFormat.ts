/**
 * An executable's format and machine from its first bytes: ELF (e_machine), PE (the COFF
 * header's Machine after the PE signature) and Mach-O (cputype; a universal binary lists
 * every architecture it holds). Enough to tell which platform a shipped binary is for.
 */

const ELF_MACHINES: Record<number, string> = { 0x03: 'i386', 0x28: 'arm', 0x3e: 'x86-64', 0xb7: 'aarch64' };
const PE_MACHINES: Record<number, string> = { 0x014c: 'i386', 0x8664: 'x86-64', 0xaa64: 'arm64' };
const MACHO_CPUS: Record<number, string> = { 0x7: 'i386', 0x01000007: 'x86_64', 0x0100000c: 'arm64' };

/** e.g. `ELF x86-64`, `PE arm64`, `Mach-O arm64`, `Mach-O universal x86_64+arm64`; undefined when not an executable format. */
export function binaryFormat(header: Buffer): string | undefined {
  if (header.length >= 20 && header.readUInt32BE(0) === 0x7f454c46) {
    const little = header[5] === 1;
    const machine = little ? header.readUInt16LE(18) : header.readUInt16BE(18);
    return `ELF ${ELF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`}`;
  }
  if (header.length >= 64 && header[0] === 0x4d && header[1] === 0x5a) {
    const peOffset = header.readUInt32LE(0x3c);
    if (peOffset + 6 <= header.length && header.readUInt32BE(peOffset) === 0x50450000) {
      const machine = header.readUInt16LE(peOffset + 4);
      return `PE ${PE_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`}`;
    }
    return undefined;
  }
  if (header.length >= 8) {
    const magicLE = header.readUInt32LE(0);
    if (magicLE === 0xfeedfacf || magicLE === 0xfeedface) {
      const cpu = header.readUInt32LE(4);
      return `Mach-O ${MACHO_CPUS[cpu] ?? `cpu 0x${cpu.toString(16)}`}`;
    }
    // Universal (fat) binaries are big-endian: count, then 20-byte entries starting with cputype.
    if (header.readUInt32BE(0) === 0xcafebabe) {
      const count = header.readUInt32BE(4);
      // Java class files share the magic; their "count" (a version) is far above any arch count.
      if (count === 0 || count > 16 || 8 + count * 20 > header.length) return undefined;
      const cpus = Array.from({ length: count }, (_, i) => MACHO_CPUS[header.readUInt32BE(8 + i * 20)] ?? 'other');
      return `Mach-O universal ${cpus.join('+')}`;
    }
  }
  return undefined;
}
