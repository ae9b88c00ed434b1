import { runObjectStoreContract } from '../contract/object-store-contract.js';
import { MemoryObjectStore } from './memory-object-store.js';

runObjectStoreContract('memory', async () => ({ store: new MemoryObjectStore() }));
