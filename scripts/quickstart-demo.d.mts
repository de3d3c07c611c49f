export interface DemoTenant {
  accountId: string;
  chatbotId: string;
  userId: string;
  keyId: string;
  ownerKey: string;
}
export function provisionDemo(gateway: string, adminToken: string, stateFile?: string): Promise<DemoTenant>;
