// Makes `require('vscode')` load test/vscode-stub (the only stubbed
// boundary). Every test file imports this first.

import Module = require('module');

const stubPath = require.resolve('./vscode-stub');
const loader = Module as unknown as {
  _resolveFilename(request: string, parent: unknown, ...rest: unknown[]): string;
};
const resolve = loader._resolveFilename;
loader._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]): string {
  if (request === 'vscode') return stubPath;
  return resolve.call(this, request, parent, ...rest);
};
