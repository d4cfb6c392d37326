// Where libtorch is, for binding.gyp and build.mjs. Usage: node torch-config.cjs include|libs|check
// Default: Debian's libtorch-dev (apt-get install libtorch-dev, or python3-torch which recommends it).
// Override with LIBTORCH=/path/to/libtorch (an unpacked libtorch zip or a pip torch package dir).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function locate() {
  const roots = [];
  if (process.env.LIBTORCH) roots.push({ inc: path.join(process.env.LIBTORCH, 'include'), lib: path.join(process.env.LIBTORCH, 'lib'), custom: true });
  roots.push({ inc: '/usr/include', lib: null, custom: false });
  for (const r of roots) {
    const api = path.join(r.inc, 'torch', 'csrc', 'api', 'include');
    if (fs.existsSync(path.join(api, 'torch', 'version.h')) && fs.existsSync(path.join(r.inc, 'ATen', 'ATen.h'))) {
      return { ...r, api };
    }
  }
  return null;
}

const found = locate();
const what = process.argv[2];
if (what === 'check') {
  if (found) {
    process.stdout.write(JSON.stringify({ ok: true, include: found.api, lib: found.lib ?? 'system' }) + '\n');
  } else {
    const where = process.env.LIBTORCH ? `LIBTORCH=${process.env.LIBTORCH} or /usr/include` : '/usr/include';
    process.stdout.write(JSON.stringify({ ok: false, reason: `libtorch headers not found in ${where} (Debian: apt-get install libtorch-dev)` }) + '\n');
  }
} else if (what === 'include') {
  if (!found) process.exit(1);
  process.stdout.write([found.custom ? found.inc : null, found.api].filter(Boolean).join(' ') + '\n');
} else if (what === 'libs') {
  if (!found) process.exit(1);
  const flags = found.lib ? [`-L${found.lib}`, `-Wl,-rpath,${found.lib}`] : [];
  process.stdout.write([...flags, '-ltorch', '-ltorch_cpu', '-lc10'].join(' ') + '\n');
} else {
  process.stderr.write('usage: node torch-config.cjs include|libs|check\n');
  process.exit(2);
}
