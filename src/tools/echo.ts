export async function echoMain(_a: string[]): Promise<number> { await Promise.resolve(); throw new Error('todo'); }
