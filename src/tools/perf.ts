export async function perfMain(_a: string[]): Promise<number> { await Promise.resolve(); throw new Error('todo'); }
