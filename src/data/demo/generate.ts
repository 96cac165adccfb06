import { UserError } from '../../errors.ts';
import type { CellValue } from '../../schema/types.ts';
import {
  CATEGORIES,
  COMPANY_DOMAINS,
  COUNTRIES,
  GLOBAL_DOMAINS,
  PRODUCTS_PER_CATEGORY,
  STORE_SITES,
  type City,
  type Country,
} from './catalogue.ts';
import { Random, seedKey, weightedTable, type SeedKey, type WeightedTable } from './random.ts';

/**
 * The demo retail workspace's data (examples/retail/baton.yaml), generated from a seed.
 *
 * Every profile's attributes come from random streams keyed by the profile id, not from one running
 * stream. That is what lets `rows()` stream any number of profiles without keeping them: the purchases
 * table re-derives the few profile attributes it needs (join date, home store, tier) from the id, and the
 * purchase count is decided on its own stream so `expectedRows` can be summed without generating rows.
 */

export interface DemoOptions {
  profiles: number;
  seed: string;
  /** The "today" the data is relative to: nothing happens after it. */
  asOf: Date;
}

export type DemoTableName = 'stores' | 'products' | 'profiles' | 'purchases';

export interface DemoTable {
  table: DemoTableName;
  columns: string[];
  /** Streams the rows; each call yields the same rows for the same options. */
  rows(): Iterable<CellValue[]>;
  expectedRows: number;
}

/** Upper bound on `profiles`: email numbers are scrambled within 31 bits (see `emailNumber`). */
export const MAX_DEMO_PROFILES = 100_000_000;

/** The deliberate imperfections and shares the data is drawn with (per profile). */
export const DEMO_RATES = {
  missingEmail: 0.02,
  malformedEmail: 0.005,
  /** Share of profiles asked to reuse another profile's address; about 1 in 30 of them cannot (see below). */
  sharedEmailRequest: 0.0052,
  missingPhone: 0.1,
  pushToken: 0.4,
  optedInEmail: 0.85,
  optedInSms: 0.6,
  optedInPushWithToken: 0.75,
  otherGender: 0.02,
  /** Customers whose name comes from another country's list: every country has immigrants. */
  foreignName: 0.08,
} as const;

const COLUMNS: Record<DemoTableName, readonly string[]> = {
  stores: ['id', 'name', 'region', 'country', 'opened_on'],
  products: ['id', 'sku', 'name', 'category', 'price'],
  profiles: [
    'id',
    'email',
    'phone',
    'push_token',
    'first_name',
    'last_name',
    'gender',
    'country',
    'city',
    'store_id',
    'birth_date',
    'created_at',
    'loyalty',
    'opted_in_email',
    'opted_in_sms',
    'opted_in_push',
  ],
  purchases: ['id', 'profile_id', 'product_id', 'store_id', 'quantity', 'amount', 'purchased_at'],
};

/** Independent random streams of one seed, one per group of attributes (see the draw functions). */
const STREAM = {
  stores: 1,
  products: 2,
  core: 3,
  activity: 4,
  identity: 5,
  contact: 6,
  purchases: 7,
} as const;

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_PURCHASES = 20;
/** A profile asking for a shared address takes it from the profile this many ids before it. */
const SHARED_EMAIL_DISTANCE = 13;

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

// ---------------------------------------------------------------------------------------------------------
// The model: reference data resolved into lookup tables once per call to demoTables.

interface StoreModel {
  id: number;
  name: string;
  region: string;
  country: string;
  city: string;
  utcOffset: number;
  openedOn: string;
}

interface NameEntry {
  text: string;
  /** The name as it appears in an address: ASCII letters only. */
  slug: string;
}

interface CountryModel {
  code: string;
  cities: WeightedTable<CityModel>;
  stores: WeightedTable<StoreModel>;
  domains: WeightedTable<string>;
  female: NameEntry[];
  male: NameEntry[];
  last: NameEntry[];
  phone: (rng: Random, city: CityModel) => string;
}

interface CityModel {
  city: City;
  /** Stores in the city, or else in its region; empty when the region has none. */
  nearby: StoreModel[];
}

interface ProductModel {
  id: number;
  sku: string;
  name: string;
  category: string;
  categoryIndex: number;
  priceCents: number;
  price: string;
  /** Relative sales weight. */
  popularity: number;
}

type Tier = 'bronze' | 'silver' | 'gold' | 'platinum';

/**
 * Per tier: share of customers, chance of no purchase at all, and the mean purchase count of those who buy
 * before the count is capped and scaled down for recent joiners (tuned for about 3 purchases per profile).
 */
const TIERS: ReadonlyArray<{ tier: Tier; share: number; none: number; mean: number }> = [
  { tier: 'bronze', share: 55, none: 0.2, mean: 3.6 },
  { tier: 'silver', share: 28, none: 0.1, mean: 4.9 },
  { tier: 'gold', share: 13, none: 0.05, mean: 6.6 },
  { tier: 'platinum', share: 4, none: 0.02, mean: 8.8 },
];

const CATEGORY_SHARE: Record<string, number> = {
  Apparel: 22,
  Footwear: 12,
  Accessories: 12,
  Beauty: 14,
  Home: 11,
  Electronics: 9,
  Sports: 10,
  'Food & Drink': 10,
};

/** Share of the population per age band [from, to): the demo skews to working-age adults. */
const AGE_BANDS: ReadonlyArray<readonly [number, number, number]> = [
  [18, 25, 12],
  [25, 35, 21],
  [35, 45, 22],
  [45, 55, 19],
  [55, 65, 14],
  [65, 75, 8],
  [75, 86, 4],
];

/** Local shopping hours: a lunch peak and a bigger after-work peak. */
const SHOPPING_HOURS = weightedTable<number>([
  [9, 3],
  [10, 6],
  [11, 8],
  [12, 10],
  [13, 10],
  [14, 7],
  [15, 7],
  [16, 8],
  [17, 10],
  [18, 12],
  [19, 10],
  [20, 5],
]);

const QUANTITIES = weightedTable<number>([
  [1, 60],
  [2, 22],
  [3, 10],
  [4, 5],
  [5, 3],
]);

function slug(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[^a-z]/g, '');
}

function names(list: string[]): NameEntry[] {
  return list.map((text) => ({ text, slug: slug(text) }));
}

/** n random decimal digits, leading zeros kept. */
function digits(rng: Random, n: number): string {
  return String(rng.int(0, 10 ** n - 1)).padStart(n, '0');
}

// Mobile number ranges actually allocated in each country, so the numbers pass a phone-number validator.
const IT_MOBILE = ['320', '328', '329', '331', '333', '334', '335', '338', '339', '340', '345', '347', '348'];
const DE_MOBILE_11 = '151 152 157 159 160 162 163 170 171 172 175 176 177'.split(' ');
// UK ranges only: parts of 07xx are pagers, personal numbers, or belong to Jersey, Guernsey and Man.
const GB_MOBILE = (
  '740 741 742 743 744 746 747 748 749 751 753 754 755 756 757 758 759 771 772 773 774 775 ' +
  '776 777 780 781 784 785 786 787 788 789 790 792 794 795 796 797 798 799'
).split(' ');
// Metropolitan France only: 0639 and 069x are overseas departments.
const FR_MOBILE = ['60', '61', '62', '64', '65', '66', '67', '68', '73', '74', '75', '76', '77', '78'];
const PT_MOBILE = ['91', '92', '93', '96'];

/** Mobile numbers in E.164, the form SMS providers expect. */
const PHONE_FORMATS: Record<string, (rng: Random, city: CityModel) => string> = {
  IT: (rng) => `+39${rng.pick(IT_MOBILE)}${digits(rng, 7)}`,
  FR: (rng) => `+33${rng.pick(FR_MOBILE)}${digits(rng, 7)}`,
  DE: (rng) => `+49${rng.pick(DE_MOBILE_11)}${digits(rng, 8)}`,
  ES: (rng) => (rng.chance(0.85) ? `+346${digits(rng, 8)}` : `+347${rng.int(1, 4)}${digits(rng, 7)}`),
  GB: (rng) => `+44${rng.pick(GB_MOBILE)}${digits(rng, 7)}`,
  US: (rng, city) => {
    // Exchanges never start with 0 or 1, N11 codes are service numbers and 555 is reserved for fiction.
    let exchange = rng.int(200, 999);
    if (exchange % 100 === 11 || exchange === 555) exchange += 1;
    return `+1${rng.pick(city.city.areaCodes ?? [212])}${exchange}${digits(rng, 4)}`;
  },
  NL: (rng) => `+316${rng.int(1, 5)}${digits(rng, 7)}`,
  PT: (rng) => `+351${rng.pick(PT_MOBILE)}${digits(rng, 7)}`,
};

/** Epoch day → `YYYY-MM-DD` without a Date per row (proleptic Gregorian, days since 1970-01-01). */
export function formatEpochDay(day: number): string {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  // Months counted from March, so that the leap day falls at the end of the year.
  const marchMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const dayOfMonth = dayOfYear - Math.floor((153 * marchMonth + 2) / 5) + 1;
  const month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, '0')}-${PAD2[month]}-${PAD2[dayOfMonth]}`;
}

function yearsBefore(asOfMs: number, years: number): number {
  const d = new Date(asOfMs);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d.getTime();
}

function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${PAD2[cents % 100]}`;
}

class DemoModel {
  readonly key: SeedKey;
  readonly profiles: number;
  readonly asOfMs: number;
  readonly stores: StoreModel[] = [];
  readonly products: ProductModel[] = [];
  readonly countries: WeightedTable<CountryModel>;
  readonly allStores: WeightedTable<StoreModel>;
  readonly allProducts: WeightedTable<ProductModel>;
  readonly productsByCategory: WeightedTable<ProductModel>[] = [];
  readonly favouriteCategory: WeightedTable<number>;
  readonly tiers: WeightedTable<(typeof TIERS)[number]>;
  readonly birthBands: WeightedTable<readonly [number, number]>;
  readonly joinedFrom: number;
  readonly purchasesFrom: number;
  readonly emailMultiplier: number;
  readonly emailOffset: number;

  constructor(options: DemoOptions) {
    this.key = seedKey(options.seed);
    this.profiles = options.profiles;
    this.asOfMs = options.asOf.getTime();
    this.joinedFrom = yearsBefore(this.asOfMs, 5);
    this.purchasesFrom = yearsBefore(this.asOfMs, 2);
    this.emailMultiplier = (this.key[0] | 1) >>> 0;
    this.emailOffset = this.key[1];

    const asOfDay = Math.floor(this.asOfMs / DAY);
    const rng = new Random(this.key, STREAM.stores, 0);
    const citiesByName = new Map<string, City>();
    for (const country of COUNTRIES)
      for (const city of country.cities) citiesByName.set(`${country.code}/${city.name}`, city);
    for (const [code, cityName, name] of STORE_SITES) {
      const city = citiesByName.get(`${code}/${cityName}`);
      if (!city) throw new Error(`demo store ${name} is in ${cityName}, which is not a city of ${code}`);
      // Every store has been open for the whole purchase window (two years), so no sale predates its store.
      const openedOn = formatEpochDay(asOfDay - rng.int(2 * 366, 20 * 365));
      this.stores.push({
        id: this.stores.length + 1,
        name,
        region: city.region,
        country: code,
        city: cityName,
        utcOffset: city.utcOffset,
        openedOn,
      });
    }
    this.allStores = weightedTable(this.stores.map((s) => [s, 1] as const));

    const countryModels = COUNTRIES.map((country) => this.countryModel(country));
    this.countries = weightedTable(countryModels.map((c, i) => [c, COUNTRIES[i]!.weight] as const));

    this.buildProducts();
    this.allProducts = weightedTable(this.products.map((p) => [p, p.popularity] as const));
    for (let c = 0; c < CATEGORIES.length; c++) {
      this.productsByCategory.push(
        weightedTable(
          this.products.filter((p) => p.categoryIndex === c).map((p) => [p, p.popularity] as const),
        ),
      );
    }
    this.favouriteCategory = weightedTable(
      CATEGORIES.map((c, i) => [i, CATEGORY_SHARE[c.name] ?? 10] as const),
    );
    this.tiers = weightedTable(TIERS.map((t) => [t, t.share] as const));

    const asOfBirthDay = (years: number) => Math.floor(yearsBefore(this.asOfMs, years) / DAY);
    // Each band is the inclusive day range of birthdays giving an age in [from, to).
    this.birthBands = weightedTable(
      AGE_BANDS.map(
        ([from, to, share]) => [[asOfBirthDay(to) + 1, asOfBirthDay(from)] as const, share] as const,
      ),
    );
  }

  private buildProducts(): void {
    const rng = new Random(this.key, STREAM.products, 0);
    CATEGORIES.forEach((category, categoryIndex) => {
      const combos: string[] = [];
      for (const q of category.qualifiers) for (const item of category.items) combos.push(`${q} ${item}`);
      if (combos.length < PRODUCTS_PER_CATEGORY)
        throw new Error(`demo category ${category.name} has too few names`);
      shuffle(rng, combos);
      for (let i = 0; i < PRODUCTS_PER_CATEGORY; i++) {
        const units = Math.round(
          Math.exp(
            Math.log(category.minPrice) + rng.float() * Math.log(category.maxPrice / category.minPrice),
          ),
        );
        // Shelf prices: mostly charm prices (x.99, x.90), some round or half.
        const ending = rng.weighted<number>([
          [99, 55],
          [90, 15],
          [50, 10],
          [0, 20],
        ]);
        const priceCents = ending === 0 ? units * 100 : units * 100 - 100 + ending;
        const id = this.products.length + 1;
        this.products.push({
          id,
          sku: `${category.skuPrefix}-${String(1001 + i)}`,
          name: combos[i]!,
          category: category.name,
          categoryIndex,
          priceCents,
          price: formatCents(priceCents),
          popularity: 0,
        });
      }
    });
    const ranks = this.products.map((_, i) => i + 1);
    shuffle(rng, ranks);
    // Zipf-like sales: a few best sellers and a long tail, in an order that differs per seed.
    this.products.forEach((p, i) => (p.popularity = 1 / ranks[i]! ** 0.8));
  }

  private countryModel(country: Country): CountryModel {
    const stores = this.stores.filter((s) => s.country === country.code);
    const storesIn = (city: string) => stores.filter((s) => s.city === city);
    const cityModels = country.cities.map((city): CityModel => {
      const inCity = storesIn(city.name);
      return { city, nearby: inCity.length > 0 ? inCity : stores.filter((s) => s.region === city.region) };
    });
    // A big city's customers are shared between its stores, so a store's weight is its share of its city.
    const storeWeights = stores.map((s) => {
      const cityWeight = country.cities.find((c) => c.name === s.city)?.weight ?? 1;
      return [s, cityWeight / storesIn(s.city).length] as const;
    });
    // Addresses: 74% with the global providers, 20% with the country's own, 6% at work.
    const globalTotal = GLOBAL_DOMAINS.reduce((sum, [, w]) => sum + w, 0);
    const domains: Array<readonly [string, number]> = [
      ...GLOBAL_DOMAINS.map(([d, w]) => [d, (74 * w) / globalTotal] as const),
      ...country.localDomains.map((d) => [d, 20 / country.localDomains.length] as const),
      ...COMPANY_DOMAINS.map((d) => [d, 6 / COMPANY_DOMAINS.length] as const),
    ];
    const phone = PHONE_FORMATS[country.code];
    if (!phone) throw new Error(`demo country ${country.code} has no phone format`);
    return {
      code: country.code,
      cities: weightedTable(cityModels.map((c) => [c, c.city.weight] as const)),
      stores: weightedTable(storeWeights),
      domains: weightedTable(domains),
      female: names(country.names.female),
      male: names(country.names.male),
      last: names(country.names.last),
      phone,
    };
  }

  /**
   * Scrambles the profile id into the number part of its email address. The map is a bijection inside each
   * power-of-two block, so numbers stay unique (addresses are unique by construction) and keep the id's
   * size, without reading as a sequence.
   */
  emailNumber(id: number): number {
    const block = 2 ** (31 - Math.clz32(id));
    return block + ((Math.imul(id - block, this.emailMultiplier) + this.emailOffset) & (block - 1));
  }
}

function shuffle<T>(rng: Random, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Per-profile draws. Each writes into a caller-owned scratch object, so a million profiles allocate no
// intermediate objects; the order of draws inside a stream is part of the data's definition.

interface Core {
  createdAt: number;
  country: CountryModel;
  city: CityModel;
  store: StoreModel;
}

/** Join date, then place: the join date comes first because purchase counts need only it. */
function drawCore(model: DemoModel, rng: Random, id: number, out: Core): void {
  rng.reset(model.key, STREAM.core, id);
  out.createdAt = drawCreatedAt(model, rng);
  out.country = rng.draw(model.countries);
  out.city = rng.draw(out.country.cities);
  // Mostly the nearest store; otherwise one elsewhere in the country; a few signed up abroad, on a trip.
  const roll = rng.float();
  if (roll < 0.02) out.store = rng.draw(model.allStores);
  else if (roll < 0.87 && out.city.nearby.length > 0) out.store = rng.pick(out.city.nearby);
  else out.store = rng.draw(out.country.stores);
}

function drawCountry(model: DemoModel, rng: Random, id: number): CountryModel {
  rng.reset(model.key, STREAM.core, id);
  drawCreatedAt(model, rng);
  return rng.draw(model.countries);
}

/** Profiles join over five years, more of them recently: the customer base has been growing. */
function drawCreatedAt(model: DemoModel, rng: Random): number {
  const span = model.asOfMs - model.joinedFrom;
  // Inverse CDF of a density that rises linearly to 2.5 times its starting value at asOf.
  const g = 1.5;
  const x = (Math.sqrt(1 + 2 * g * rng.float() * (1 + g / 2)) - 1) / g;
  return model.joinedFrom + Math.floor((x * span) / 1000) * 1000;
}

interface Activity {
  tier: Tier;
  purchases: number;
  favouriteCategory: number;
}

function drawActivity(model: DemoModel, rng: Random, id: number, createdAt: number, out: Activity): void {
  rng.reset(model.key, STREAM.activity, id);
  const tier = rng.draw(model.tiers);
  out.tier = tier.tier;
  out.favouriteCategory = rng.draw(model.favouriteCategory);
  if (rng.chance(tier.none)) {
    out.purchases = 0;
    return;
  }
  // A geometric tail above one purchase (most buy a few times, a few very often), truncated by inverting
  // the distribution over its first MAX_PURCHASES values only, so no spike builds up at the cap.
  const keep = 1 - 1 / tier.mean;
  const inCap = 1 - keep ** MAX_PURCHASES;
  let n = 1 + Math.floor(Math.log(1 - rng.float() * inCap) / Math.log(keep));
  // Recent customers have had less time to buy; anyone who buys at all has bought at least once.
  const tenure = Math.min(model.asOfMs - createdAt, model.asOfMs - model.purchasesFrom);
  n = Math.max(1, Math.round(n * Math.min(1, (tenure + 60 * DAY) / (model.asOfMs - model.purchasesFrom))));
  out.purchases = n;
}

const EMAIL_OK = 0;
const EMAIL_MISSING = 1;
const EMAIL_MALFORMED = 2;
const EMAIL_SHARED = 3;

interface Identity {
  emailKind: number;
  gender: 'female' | 'male' | 'other';
  first: NameEntry;
  last: NameEntry;
  /** The well-formed address the person would have; the email column may differ (see emailKind). */
  email: string;
}

function drawIdentity(model: DemoModel, rng: Random, id: number, country: CountryModel, out: Identity): void {
  rng.reset(model.key, STREAM.identity, id);
  const u = rng.float();
  out.emailKind =
    u < DEMO_RATES.missingEmail
      ? EMAIL_MISSING
      : u < DEMO_RATES.missingEmail + DEMO_RATES.malformedEmail
        ? EMAIL_MALFORMED
        : u < DEMO_RATES.missingEmail + DEMO_RATES.malformedEmail + DEMO_RATES.sharedEmailRequest
          ? EMAIL_SHARED
          : EMAIL_OK;
  const g = rng.float();
  out.gender =
    g < DEMO_RATES.otherGender ? 'other' : g < (1 + DEMO_RATES.otherGender) / 2 ? 'female' : 'male';
  const origin = rng.chance(DEMO_RATES.foreignName) ? rng.draw(model.countries) : country;
  const female = out.gender === 'female' || (out.gender === 'other' && rng.chance(0.5));
  out.first = rng.pick(female ? origin.female : origin.male);
  out.last = rng.pick(origin.last);
  const f = out.first.slug;
  const l = out.last.slug;
  const n = model.emailNumber(id);
  const domain = rng.draw(country.domains);
  let local: string;
  const pattern = rng.int(0, 99);
  if (pattern < 38) local = `${f}.${l}${n}`;
  else if (pattern < 58) local = `${f}${l}${n}`;
  else if (pattern < 72) local = `${f.charAt(0)}${l}${n}`;
  else if (pattern < 82) local = `${f}_${l}${n}`;
  else if (pattern < 90) local = `${l}.${f}${n}`;
  else local = `${f}${n}`;
  out.email = `${local}@${domain}`;
}

/** Typical typing and export accidents; every one fails a basic `local@domain.tld` check. */
function malform(rng: Random, email: string): string {
  const at = email.indexOf('@');
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  switch (rng.int(0, 4)) {
    case 0:
      return `${local}${domain}`;
    case 1:
      return `${local}@@${domain}`;
    case 2:
      return `${local}@${domain.slice(0, domain.indexOf('.'))}`;
    case 3:
      return `${local} @${domain}`;
    default:
      return `${local}@${domain.replace(/\./g, ',')}`;
  }
}

const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** 32 random bytes in hex, like an APNs device token; a byte table because toString(16) dominated the run. */
function pushToken(rng: Random): string {
  let token = '';
  for (let i = 0; i < 8; i++) {
    const w = rng.next();
    token +=
      HEX_BYTES[w >>> 24]! + HEX_BYTES[(w >>> 16) & 255]! + HEX_BYTES[(w >>> 8) & 255]! + HEX_BYTES[w & 255]!;
  }
  return token;
}

function newCore(model: DemoModel): Core {
  const country = model.countries.values[0]!;
  return { createdAt: 0, country, city: country.cities.values[0]!, store: model.stores[0]! };
}

function newIdentity(model: DemoModel): Identity {
  const country = model.countries.values[0]!;
  return {
    emailKind: EMAIL_OK,
    gender: 'female',
    first: country.female[0]!,
    last: country.last[0]!,
    email: '',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Tables.

function* storeRows(model: DemoModel): Generator<CellValue[]> {
  for (const s of model.stores) yield [s.id, s.name, s.region, s.country, s.openedOn];
}

function* productRows(model: DemoModel): Generator<CellValue[]> {
  for (const p of model.products) yield [p.id, p.sku, p.name, p.category, p.price];
}

function* profileRows(model: DemoModel): Generator<CellValue[]> {
  const coreRng = new Random(model.key);
  const activityRng = new Random(model.key);
  const identityRng = new Random(model.key);
  const contactRng = new Random(model.key);
  const partnerRng = new Random(model.key);
  const core = newCore(model);
  const activity: Activity = { tier: 'bronze', purchases: 0, favouriteCategory: 0 };
  const identity = newIdentity(model);
  const partner = newIdentity(model);

  for (let id = 1; id <= model.profiles; id++) {
    drawCore(model, coreRng, id, core);
    drawActivity(model, activityRng, id, core.createdAt, activity);
    drawIdentity(model, identityRng, id, core.country, identity);
    contactRng.reset(model.key, STREAM.contact, id);

    let email: string | null = identity.email;
    if (identity.emailKind === EMAIL_MISSING) email = null;
    else if (identity.emailKind === EMAIL_MALFORMED) email = malform(contactRng, identity.email);
    else if (identity.emailKind === EMAIL_SHARED && id > SHARED_EMAIL_DISTANCE) {
      // Couples and families sharing one mailbox. Taking the address only from a profile that keeps its own
      // well-formed one makes every shared address belong to exactly two profiles.
      const partnerId = id - SHARED_EMAIL_DISTANCE;
      drawIdentity(model, identityRng, partnerId, drawCountry(model, partnerRng, partnerId), partner);
      if (partner.emailKind === EMAIL_OK) email = partner.email;
    }

    const phone = contactRng.chance(DEMO_RATES.missingPhone)
      ? null
      : core.country.phone(contactRng, core.city);
    const token = contactRng.chance(DEMO_RATES.pushToken) ? pushToken(contactRng) : null;
    const birthBand = contactRng.draw(model.birthBands);
    const birthDate = formatEpochDay(contactRng.int(birthBand[0], birthBand[1]));
    const optedInEmail = contactRng.chance(DEMO_RATES.optedInEmail);
    const optedInSms = contactRng.chance(DEMO_RATES.optedInSms);
    const optedInPush = token !== null && contactRng.chance(DEMO_RATES.optedInPushWithToken);

    yield [
      id,
      email,
      phone,
      token,
      identity.first.text,
      identity.last.text,
      identity.gender,
      core.country.code,
      core.city.city.name,
      core.store.id,
      birthDate,
      core.createdAt,
      activity.tier,
      optedInEmail,
      optedInSms,
      optedInPush,
    ];
  }
}

function countPurchases(model: DemoModel): number {
  const coreRng = new Random(model.key);
  const activityRng = new Random(model.key);
  const activity: Activity = { tier: 'bronze', purchases: 0, favouriteCategory: 0 };
  let total = 0;
  for (let id = 1; id <= model.profiles; id++) {
    coreRng.reset(model.key, STREAM.core, id);
    const createdAt = drawCreatedAt(model, coreRng);
    drawActivity(model, activityRng, id, createdAt, activity);
    total += activity.purchases;
  }
  return total;
}

function* purchaseRows(model: DemoModel): Generator<CellValue[]> {
  const coreRng = new Random(model.key);
  const activityRng = new Random(model.key);
  const rng = new Random(model.key);
  const core = newCore(model);
  const activity: Activity = { tier: 'bronze', purchases: 0, favouriteCategory: 0 };
  const times = new Float64Array(MAX_PURCHASES);
  const stores: StoreModel[] = new Array<StoreModel>(MAX_PURCHASES).fill(model.stores[0]!);
  const products: ProductModel[] = new Array<ProductModel>(MAX_PURCHASES).fill(model.products[0]!);
  const quantities = new Int32Array(MAX_PURCHASES);
  const recentFrom = model.asOfMs - 90 * DAY;
  let purchaseId = 0;

  for (let profileId = 1; profileId <= model.profiles; profileId++) {
    drawCore(model, coreRng, profileId, core);
    drawActivity(model, activityRng, profileId, core.createdAt, activity);
    const count = activity.purchases;
    if (count === 0) continue;
    rng.reset(model.key, STREAM.purchases, profileId);
    const from = Math.max(model.purchasesFrom, core.createdAt);
    const to = model.asOfMs;
    const favourite = model.productsByCategory[activity.favouriteCategory]!;

    for (let k = 0; k < count; k++) {
      const s = rng.float();
      const store =
        s < 0.75 ? core.store : s < 0.95 ? rng.draw(core.country.stores) : rng.draw(model.allStores);
      stores[k] = store;
      products[k] = rng.chance(0.5) ? rng.draw(favourite) : rng.draw(model.allProducts);
      quantities[k] = rng.draw(QUANTITIES);
      // A share of purchases falls in the last 90 days on top of the even spread, so recent-activity
      // audiences are sizeable.
      const start = rng.chance(0.3) ? Math.max(from, recentFrom) : from;
      let t = start + rng.float() * (to - start);
      // Move the purchase to a shopping hour of the store's local day, unless that leaves the window.
      const offset = store.utcOffset * HOUR;
      const localDay = Math.floor((t + offset) / DAY) * DAY;
      const moved = localDay + rng.draw(SHOPPING_HOURS) * HOUR + rng.int(0, 3599) * 1000 - offset;
      if (moved >= from && moved <= to) t = moved;
      times[k] = Math.ceil(t);
    }
    if (core.createdAt >= model.purchasesFrom && rng.chance(0.5)) {
      // Many customers join at the till: their first purchase is the one they signed up with.
      stores[0] = core.store;
      times[0] = Math.min(to, core.createdAt + rng.int(0, 900) * 1000);
    }
    sortPurchases(count, times, stores, products, quantities);

    for (let k = 0; k < count; k++) {
      const product = products[k]!;
      const quantity = quantities[k]!;
      yield [
        ++purchaseId,
        profileId,
        product.id,
        stores[k]!.id,
        quantity,
        formatCents(product.priceCents * quantity),
        times[k]!,
      ];
    }
  }
}

/** Insertion sort by time (at most 20 entries), so a profile's purchase ids follow its purchase dates. */
function sortPurchases(
  count: number,
  times: Float64Array,
  stores: StoreModel[],
  products: ProductModel[],
  quantities: Int32Array,
): void {
  for (let i = 1; i < count; i++) {
    const t = times[i]!;
    const s = stores[i]!;
    const p = products[i]!;
    const q = quantities[i]!;
    let j = i - 1;
    while (j >= 0 && times[j]! > t) {
      times[j + 1] = times[j]!;
      stores[j + 1] = stores[j]!;
      products[j + 1] = products[j]!;
      quantities[j + 1] = quantities[j]!;
      j--;
    }
    times[j + 1] = t;
    stores[j + 1] = s;
    products[j + 1] = p;
    quantities[j + 1] = q;
  }
}

function checkOptions(options: DemoOptions): void {
  if (
    !Number.isSafeInteger(options.profiles) ||
    options.profiles < 0 ||
    options.profiles > MAX_DEMO_PROFILES
  ) {
    throw new UserError(
      `demo profiles must be a whole number from 0 to ${MAX_DEMO_PROFILES}, got ${options.profiles}`,
    );
  }
  if (!(options.asOf instanceof Date) || Number.isNaN(options.asOf.getTime())) {
    throw new UserError('demo asOf must be a valid date');
  }
}

/** The demo tables in load order (stores, products, profiles, purchases): each only references earlier ones. */
export function demoTables(options: DemoOptions): DemoTable[] {
  checkOptions(options);
  const model = new DemoModel(options);
  let purchaseCount: number | undefined;
  return [
    {
      table: 'stores',
      columns: [...COLUMNS.stores],
      rows: () => storeRows(model),
      expectedRows: model.stores.length,
    },
    {
      table: 'products',
      columns: [...COLUMNS.products],
      rows: () => productRows(model),
      expectedRows: model.products.length,
    },
    {
      table: 'profiles',
      columns: [...COLUMNS.profiles],
      rows: () => profileRows(model),
      expectedRows: model.profiles,
    },
    {
      table: 'purchases',
      columns: [...COLUMNS.purchases],
      rows: () => purchaseRows(model),
      // Summed on first use: it walks every profile's purchase count (about 0.1 s per million profiles).
      get expectedRows() {
        purchaseCount ??= countPurchases(model);
        return purchaseCount;
      },
    },
  ];
}
