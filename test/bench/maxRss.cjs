// Preloaded into the media worker by the benchmark (node --require): reports the process's
// peak resident memory on stderr as it exits, in the form ffmpeg's -benchmark uses.
process.on('exit', () => process.stderr.write(`\nbench: maxrss=${process.resourceUsage().maxRSS}kB\n`));
