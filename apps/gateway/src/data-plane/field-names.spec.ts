import { describe, expect, it } from '@jest/globals';
import { ApiError } from '@app/common';
import { namesField, queryValues, refuseFieldInQuery } from './field-names.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as ApiError).code;
  }
}

describe('field names as lenient binders read them', () => {
  it('matches a name in any case, under either case folding', () => {
    for (const candidate of ['chatbotId', 'ChatbotId', 'CHATBOTID', 'chatbotid']) expect(namesField(candidate, 'chatbotId')).toBe(true);
    // The Kelvin sign lower-cases to "k", the long s upper-cases to "S".
    expect(namesField('\u212Aey', 'key')).toBe(true);
    expect(namesField('\u017Fite', 'site')).toBe(true);
    for (const candidate of ['chatbotId ', 'chatbot_id', 'chatbotIds', 'bot']) expect(namesField(candidate, 'chatbotId')).toBe(false);
  });

  it('reads a query parameter by its exact name and refuses it in another case or as an array', () => {
    expect(queryValues('', 'chatbotId')).toEqual([]);
    expect(queryValues('?page=2', 'chatbotId')).toEqual([]);
    expect(queryValues('?chatbotId=b1&page=2', 'chatbotId')).toEqual(['b1']);
    expect(queryValues('?chatbotId=b1&chatbotId=b2', 'chatbotId')).toEqual(['b1', 'b2']);
    expect(queryValues('?chatbot%49d=b2&x=1', 'chatbotId')).toEqual(['b2']);
    for (const query of ['?ChatbotId=b2', '?chatbotid=b2', '?chatbot%69d=b2', '?chatbotId[]=b2', '?CHATBOTID[0]=b2']) {
      expect([query, codeOf(() => queryValues(query, 'chatbotId'))]).toEqual([query, 'invalid_request']);
    }
  });

  it('refuses a body field named in the query string, in any spelling', () => {
    expect(codeOf(() => refuseFieldInQuery('', 'chatbotId'))).toBeUndefined();
    expect(codeOf(() => refuseFieldInQuery('?stream=true&chatbot=x', 'chatbotId'))).toBeUndefined();
    for (const query of ['?chatbotId=b2', '?ChatbotId=b2', '?x=1&chatbot%49d=b2', '?chatbotId[]=b2']) {
      expect([query, codeOf(() => refuseFieldInQuery(query, 'chatbotId'))]).toEqual([query, 'invalid_request']);
    }
  });
});
