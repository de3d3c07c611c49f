export declare const SHIPPED_NATS_CONFIG: string;
export declare function renderNatsServerConfig(text: string, prefix: string | undefined): string;
