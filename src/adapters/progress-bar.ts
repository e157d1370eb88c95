/** A progress bar on a terminal stream; silent when the stream is not a TTY. */
export function progressBar(stream: NodeJS.WriteStream, total: number, label: string) {
  const enabled = stream.isTTY === true && total > 1_000_000;
  let done = 0;
  let lastDrawn = -1;
  const draw = () => {
    const pctDone = Math.min(100, Math.floor((done / total) * 100));
    if (pctDone === lastDrawn) return;
    lastDrawn = pctDone;
    const width = 30;
    const filled = Math.round((pctDone / 100) * width);
    stream.write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${pctDone}%`);
  };
  return {
    advance(bytes: number) {
      if (!enabled) return;
      done += bytes;
      draw();
    },
    finish() {
      if (enabled && lastDrawn >= 0) stream.write("\r\x1b[K");
    },
  };
}
