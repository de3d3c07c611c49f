import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CONFIG } from './tokens.js';

/** Makes an app's validated config injectable as `@Inject(CONFIG)`. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: object): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: CONFIG, useValue: config }], exports: [CONFIG] };
  }
}
