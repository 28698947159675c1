import type { Agreement, AgreementAcceptance } from './agreement.ts';
import type { Circle } from './circle.ts';

/**
 * The snake_case JSON documents circles and agreements travel and rest as (REST API, store,
 * exchange between nodes). `parseCircle`/`parseAgreement`/`parseAgreementAcceptance` read them back.
 */
export interface CircleDocument {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly kind: Circle['kind'];
  readonly visibility: Circle['visibility'];
  readonly collection_id: string;
  readonly default_tlp: Circle['defaultTlp'];
  readonly valid_from: string;
  readonly valid_until?: string;
  readonly review_at?: string;
  readonly members: readonly {
    readonly organisation_id: string;
    readonly role: string;
    readonly joined_at: string;
    readonly left_at?: string;
    readonly trial: boolean;
  }[];
}

export function toCircleDocument(circle: Circle): CircleDocument {
  return {
    id: circle.id,
    name: circle.name,
    ...(circle.description === undefined ? {} : { description: circle.description }),
    kind: circle.kind,
    visibility: circle.visibility,
    collection_id: circle.collectionId,
    default_tlp: circle.defaultTlp,
    valid_from: circle.validFrom,
    ...(circle.validUntil === undefined ? {} : { valid_until: circle.validUntil }),
    ...(circle.reviewAt === undefined ? {} : { review_at: circle.reviewAt }),
    members: circle.members.map((member) => ({
      organisation_id: member.organisationId,
      role: member.role,
      joined_at: member.joinedAt,
      ...(member.leftAt === undefined ? {} : { left_at: member.leftAt }),
      trial: member.trial,
    })),
  };
}

export function toAgreementDocument(agreement: Agreement): Record<string, unknown> {
  const { scope, expectations } = agreement.terms;
  return {
    circle_id: agreement.circleId,
    version: agreement.version,
    proposed_by: agreement.proposedBy,
    proposed_at: agreement.proposedAt,
    terms: {
      scope: {
        types: scope.types,
        ...(scope.labels === undefined ? {} : { labels: scope.labels }),
        ...(scope.sectors === undefined ? {} : { sectors: scope.sectors }),
      },
      highest_tlp: agreement.terms.highestTlp,
      onward_sharing: agreement.terms.onwardSharing,
      attribution: agreement.terms.attribution,
      expectations: {
        permitted_actions: expectations.permittedActions,
        affected_party_notifications: expectations.affectedPartyNotifications,
        provider_attribution: expectations.providerAttribution,
      },
      end_rule: agreement.terms.endRule,
      ...(agreement.terms.unsignedInput === undefined ? {} : { unsigned_input: agreement.terms.unsignedInput }),
      ...(agreement.terms.sightingSharing === undefined ? {} : { sighting_sharing: agreement.terms.sightingSharing }),
    },
  };
}

export function toAcceptanceDocument(acceptance: AgreementAcceptance): Record<string, unknown> {
  return {
    circle_id: acceptance.circleId,
    organisation_id: acceptance.organisationId,
    version: acceptance.version,
    accepted_at: acceptance.acceptedAt,
  };
}
