export * from './metadata-store.js';
export { openMetadataStore, parseMetadataStoreUrl, type MetadataStoreLocation } from './open-metadata-store.js';
export { SqliteMetadataStore, openSqliteMetadataStore, type SqliteMetadataStoreOptions } from './sqlite/sqlite-metadata-store.js';
