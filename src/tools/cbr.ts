export async function cbrMain(_a: string[]): Promise<number> { await Promise.resolve(); throw new Error('todo'); }
