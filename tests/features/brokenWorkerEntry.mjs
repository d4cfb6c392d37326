// A worker that cannot start (as with a broken install). Used by pool.test.ts.
throw new Error('cannot load the feature pipeline');
