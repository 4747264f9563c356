// The project targets Node 24 LTS; this guards against a run on an older node by mistake.
describe('runtime', () => {
  it('runs on Node.js 24', () => {
    console.log(`node ${process.version}`);
    expect(process.versions.node.split('.')[0]).toBe('24');
  });
});
