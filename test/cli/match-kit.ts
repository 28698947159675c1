// What the tests of `entente match` sharing sightings back share: circle terms that let a sighting and
// its evidence be shared, and the shape of the STIX objects they write.
export const SIGHTING_EVIDENCE_TERMS = {
  scope: { types: ['indicator', 'sighting', 'identity', 'observed-data', 'ipv4-addr'] },
  highest_tlp: 'amber',
  onward_sharing: 'none',
  attribution: 'keep',
  expectations: { permitted_actions: 'internally-visible-actions', affected_party_notifications: 'may', provider_attribution: 'may' },
  end_rule: 'retain',
  sighting_sharing: 'evidence',
};

export type Stix = Record<string, unknown> & { type: string; id: string };
