import { tcp } from '@dnet/transport-tcp';
import { describe, expect, it } from 'vitest';
import { Client } from './client.js';
import { verification } from './contexts.js';
import { Server } from './server.js';

// Connection information at the AE level: where a requestor connects from,
// which associations a server serves, and whether one is established.

describe('connection info', () => {
  it('Client.connect binds localAddress and localPort; the Server lists the association with its info', async () => {
    const transport = tcp();
    const server = await Server.listen({
      transport,
      host: '127.0.0.1',
      port: 0,
      aeTitle: 'SCP',
      handlers: { echo: () => 0 },
    });
    // A free local port: bind to 0 and read back what the kernel chose.
    const spare = await transport.listen({ host: '127.0.0.1', port: 0 }, (c) => c.abort());
    const localPort = spare.port;
    await spare.close();
    expect(server.associations).toEqual([]);
    const client = await Client.connect({
      transport,
      host: '127.0.0.1',
      port: server.port,
      localAddress: '127.0.0.1',
      localPort,
      callingAeTitle: 'SCU',
      calledAeTitle: 'SCP',
      contexts: [verification()],
    });
    try {
      expect(client.association.info.connection).toMatchObject({
        localAddress: '127.0.0.1',
        localPort,
      });
      expect(client.association.established).toBe(true);
      // The server side is listed once negotiated; the A-ASSOCIATE-AC may reach us first.
      for (let i = 0; i < 100 && server.associations.length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      const [served, ...others] = server.associations;
      expect(others).toEqual([]);
      expect(served?.established).toBe(true);
      expect(served?.info).toMatchObject({
        role: 'acceptor',
        callingAeTitle: 'SCU',
        calledAeTitle: 'SCP',
        connection: { remoteAddress: '127.0.0.1', remotePort: localPort },
        encrypted: false,
      });
      expect(served?.info.contexts.filter((c) => c.accepted).map((c) => c.abstractSyntax)).toEqual([
        '1.2.840.10008.1.1',
      ]);
      expect(await client.echo()).toBe(0);
      await client.release();
      expect(client.association.established).toBe(false);
      await served?.closed;
      expect(served?.established).toBe(false);
      expect(server.associations).toEqual([]);
    } finally {
      client.association.abort();
      await server.close({ timeoutMs: 1000 });
    }
  });
});
