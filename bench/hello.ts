// The anchor of bench:api: a bare Bun.serve hello-world.
const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("hello") });
console.log(`listening ${server.port}`);
