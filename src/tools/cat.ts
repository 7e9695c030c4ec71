export async function catMain(_a: string[]): Promise<number> { await Promise.resolve(); throw new Error('todo'); }
