/**
 * The fixed reference data behind the demo workspace: countries and their cities, the store network, name
 * lists and the product range. Only the choices among them are random; keeping the lists here keeps the
 * generator readable and lets a reader see at a glance what the demo population looks like.
 */

export interface City {
  name: string;
  region: string;
  /** Relative share of the country's customers living there. */
  weight: number;
  /** Hours from UTC (standard time): purchases cluster in local shopping hours. */
  utcOffset: number;
  /** North American area codes, so that a US customer's number matches the city. */
  areaCodes?: number[];
}

export type CountryCode = 'IT' | 'FR' | 'DE' | 'ES' | 'GB' | 'US' | 'NL' | 'PT';

export interface Country {
  code: CountryCode;
  /** Share of all customers. */
  weight: number;
  cities: City[];
  /** Email providers popular in the country, next to the global ones. */
  localDomains: string[];
  names: { female: string[]; male: string[]; last: string[] };
}

/** A comma-separated list, so long name lists stay compact and readable. */
function list(text: string): string[] {
  return text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
}

function cities(utcOffset: number, list: Array<[string, string, number]>): City[] {
  return list.map(([name, region, weight]) => ({ name, region, weight, utcOffset }));
}

export const COUNTRIES: Country[] = [
  {
    code: 'IT',
    weight: 22,
    cities: cities(1, [
      ['Roma', 'Lazio', 16],
      ['Milano', 'Lombardia', 14],
      ['Napoli', 'Campania', 10],
      ['Torino', 'Piemonte', 8],
      ['Palermo', 'Sicilia', 6],
      ['Genova', 'Liguria', 5],
      ['Bologna', 'Emilia-Romagna', 5],
      ['Firenze', 'Toscana', 5],
      ['Bari', 'Puglia', 4],
      ['Verona', 'Veneto', 4],
      ['Venezia', 'Veneto', 3],
      ['Brescia', 'Lombardia', 3],
    ]),
    localDomains: ['libero.it.example', 'virgilio.it.example', 'alice.it.example', 'tiscali.it.example'],
    names: {
      female: list(`
        Giulia, Francesca, Chiara, Sara, Martina, Alessia, Valentina, Federica, Elena, Silvia, Giorgia,
        Sofia, Aurora, Alice, Beatrice, Camilla, Anna, Laura, Paola, Roberta, Ilaria, Noemi, Elisa,
        Marta
      `),
      male: list(`
        Luca, Marco, Alessandro, Andrea, Matteo, Lorenzo, Francesco, Davide, Simone, Federico,
        Riccardo, Gabriele, Stefano, Giuseppe, Giovanni, Antonio, Niccolò, Tommaso, Pietro, Emanuele,
        Fabio, Paolo, Nicolò, Mattia
      `),
      last: list(`
        Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo,
        Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, Moretti, Barbieri, Fontana, Santoro,
        Mariani, Rinaldi, Caruso, Ferrara, Galli, Martini, Leone, D'Angelo, Fabbri, Zanetti, Cattaneo,
        Pellegrini
      `),
    },
  },
  {
    code: 'FR',
    weight: 16,
    cities: cities(1, [
      ['Paris', 'Île-de-France', 25],
      ['Lyon', 'Auvergne-Rhône-Alpes', 8],
      ['Marseille', "Provence-Alpes-Côte d'Azur", 8],
      ['Toulouse', 'Occitanie', 6],
      ['Nice', "Provence-Alpes-Côte d'Azur", 5],
      ['Nantes', 'Pays de la Loire', 5],
      ['Bordeaux', 'Nouvelle-Aquitaine', 5],
      ['Lille', 'Hauts-de-France', 5],
      ['Strasbourg', 'Grand Est', 4],
      ['Montpellier', 'Occitanie', 4],
      ['Rennes', 'Bretagne', 3],
    ]),
    localDomains: ['orange.fr.example', 'free.fr.example', 'laposte.net.example', 'sfr.fr.example'],
    names: {
      female: list(`
        Camille, Léa, Manon, Chloé, Emma, Inès, Jade, Louise, Zoé, Sarah, Juliette, Lucie, Anaïs,
        Mathilde, Céline, Élodie, Hélène, Margaux, Clémence, Agnès, Nathalie, Isabelle, Sophie, Amélie
      `),
      male: list(`
        Lucas, Hugo, Louis, Gabriel, Arthur, Jules, Raphaël, Théo, Nathan, Maxime, Antoine, Thomas,
        Nicolas, Julien, Jérôme, François, Sébastien, Benoît, Clément, Étienne, Mathis, Baptiste,
        Adrien, Noé
      `),
      last: list(`
        Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent,
        Lefèvre, Michel, Garcia, David, Bertrand, Roux, Vincent, Fournier, Morel, Girard, André,
        Lefebvre, Mercier, Dupont, Lambert, Bonnet, François, Martinez, Lemaître, Rousseau, Fontaine,
        Chevalier
      `),
    },
  },
  {
    code: 'DE',
    weight: 16,
    cities: cities(1, [
      ['Berlin', 'Berlin', 18],
      ['München', 'Bayern', 11],
      ['Hamburg', 'Hamburg', 10],
      ['Köln', 'Nordrhein-Westfalen', 8],
      ['Frankfurt am Main', 'Hessen', 6],
      ['Stuttgart', 'Baden-Württemberg', 5],
      ['Düsseldorf', 'Nordrhein-Westfalen', 5],
      ['Leipzig', 'Sachsen', 5],
      ['Dortmund', 'Nordrhein-Westfalen', 5],
      ['Nürnberg', 'Bayern', 4],
      ['Dresden', 'Sachsen', 4],
    ]),
    localDomains: ['web.de.example', 'gmx.de.example', 't-online.de.example', 'gmx.net.example'],
    names: {
      female: list(`
        Anna, Lena, Leonie, Lea, Hannah, Mia, Emilia, Sophie, Marie, Laura, Julia, Katharina, Sabine,
        Petra, Ursula, Jana, Johanna, Charlotte, Franziska, Anke, Birgit, Greta, Käthe, Jutta
      `),
      male: list(`
        Lukas, Leon, Finn, Jonas, Paul, Felix, Maximilian, Elias, Ben, Noah, Tobias, Florian,
        Sebastian, Stefan, Andreas, Michael, Thomas, Jürgen, Jörg, Uwe, Björn, Günter, Matthias,
        Moritz
      `),
      last: list(`
        Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer,
        Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun, Krüger,
        Hofmann, Hartmann, Lange, Schmitt, Werner, Krause, Köhler, Groß, Weiß, Böhm
      `),
    },
  },
  {
    code: 'ES',
    weight: 12,
    cities: cities(1, [
      ['Madrid', 'Comunidad de Madrid', 20],
      ['Barcelona', 'Cataluña', 16],
      ['Valencia', 'Comunitat Valenciana', 8],
      ['Sevilla', 'Andalucía', 7],
      ['Zaragoza', 'Aragón', 5],
      ['Málaga', 'Andalucía', 5],
      ['Bilbao', 'País Vasco', 4],
      ['Palma', 'Illes Balears', 4],
      ['A Coruña', 'Galicia', 3],
    ]),
    localDomains: ['hotmail.es.example', 'yahoo.es.example', 'telefonica.net.example'],
    names: {
      female: list(`
        María, Lucía, Paula, Laura, Marta, Sofía, Carmen, Ana, Elena, Sara, Irene, Alba, Claudia,
        Andrea, Cristina, Raquel, Nuria, Rocío, Inés, Pilar, Beatriz, Ainhoa, Begoña, Marina
      `),
      male: list(`
        Hugo, Martín, Lucas, Mateo, Daniel, Pablo, Alejandro, Álvaro, Adrián, David, Javier, Sergio,
        Carlos, Jorge, José, Manuel, Antonio, Andrés, Raúl, Rubén, Iñaki, Jesús, Íker, Diego
      `),
      last: list(`
        García, Rodríguez, González, Fernández, López, Martínez, Sánchez, Pérez, Gómez, Martín,
        Jiménez, Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, Gutiérrez, Navarro,
        Torres, Domínguez, Vázquez, Ramos, Gil, Ramírez, Serrano, Blanco, Molina, Núñez, Ortega,
        Castillo, Ibáñez
      `),
    },
  },
  {
    code: 'GB',
    weight: 12,
    cities: cities(0, [
      ['London', 'London', 30],
      ['Manchester', 'North West England', 8],
      ['Birmingham', 'West Midlands', 8],
      ['Leeds', 'Yorkshire and the Humber', 6],
      ['Glasgow', 'Scotland', 6],
      ['Edinburgh', 'Scotland', 5],
      ['Bristol', 'South West England', 5],
      ['Liverpool', 'North West England', 5],
      ['Cardiff', 'Wales', 4],
      ['Belfast', 'Northern Ireland', 3],
    ]),
    localDomains: [
      'btinternet.com.example',
      'hotmail.co.uk.example',
      'sky.com.example',
      'yahoo.co.uk.example',
    ],
    names: {
      female: list(`
        Olivia, Amelia, Isla, Ava, Emily, Sophie, Grace, Lily, Freya, Charlotte, Jessica, Hannah,
        Eleanor, Chloe, Rebecca, Lucy, Ellie, Poppy, Siobhán, Niamh, Aoife, Priya, Aisha, Zoë
      `),
      male: list(`
        Oliver, George, Harry, Jack, Charlie, Thomas, James, William, Alfie, Oscar, Henry, Leo, Archie,
        Joshua, Daniel, Samuel, Callum, Rhys, Owen, Euan, Mohammed, Arjun, Liam, Seán
      `),
      last: list(`
        Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, Thompson,
        Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, Patel, Khan, Lewis, Harris,
        Hughes, O'Brien, MacDonald, Campbell, Murphy, Stewart, Kelly, Singh
      `),
    },
  },
  {
    code: 'US',
    weight: 12,
    cities: [
      { name: 'New York', region: 'New York', weight: 20, utcOffset: -5, areaCodes: [212, 646, 917, 718] },
      {
        name: 'Los Angeles',
        region: 'California',
        weight: 14,
        utcOffset: -8,
        areaCodes: [213, 310, 323, 424],
      },
      { name: 'Chicago', region: 'Illinois', weight: 10, utcOffset: -6, areaCodes: [312, 773, 872] },
      { name: 'Houston', region: 'Texas', weight: 8, utcOffset: -6, areaCodes: [713, 832, 281] },
      { name: 'San Francisco', region: 'California', weight: 7, utcOffset: -8, areaCodes: [415, 628] },
      { name: 'Miami', region: 'Florida', weight: 6, utcOffset: -5, areaCodes: [305, 786] },
      { name: 'Boston', region: 'Massachusetts', weight: 6, utcOffset: -5, areaCodes: [617, 857] },
      { name: 'Seattle', region: 'Washington', weight: 6, utcOffset: -8, areaCodes: [206] },
      { name: 'Austin', region: 'Texas', weight: 5, utcOffset: -6, areaCodes: [512, 737] },
      { name: 'Atlanta', region: 'Georgia', weight: 5, utcOffset: -5, areaCodes: [404, 678, 470] },
      { name: 'Denver', region: 'Colorado', weight: 4, utcOffset: -7, areaCodes: [303, 720] },
    ],
    localDomains: ['comcast.net.example', 'aol.com.example', 'att.net.example', 'verizon.net.example'],
    names: {
      female: list(`
        Emma, Olivia, Ava, Sophia, Isabella, Mia, Abigail, Madison, Emily, Elizabeth, Harper, Avery,
        Ashley, Jennifer, Jessica, Sarah, Megan, Brittany, Samantha, Nicole, Ximena, Valentina, Mei,
        Aaliyah
      `),
      male: list(`
        Liam, Noah, William, James, Benjamin, Mason, Ethan, Michael, Alexander, Jacob, Daniel, Matthew,
        Christopher, Joshua, Andrew, Ryan, Tyler, Brandon, Justin, Kevin, Santiago, José, Wei, DeShawn
      `),
      last: list(`
        Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Garcia, Rodriguez, Wilson, Martinez,
        Anderson, Taylor, Thomas, Hernandez, Moore, Martin, Jackson, Thompson, White, Lopez, Lee,
        Gonzalez, Harris, Clark, Lewis, Robinson, Walker, Nguyen, Kim, Chen, O'Connor, Peña
      `),
    },
  },
  {
    code: 'NL',
    weight: 5,
    cities: cities(1, [
      ['Amsterdam', 'Noord-Holland', 25],
      ['Rotterdam', 'Zuid-Holland', 18],
      ['Den Haag', 'Zuid-Holland', 14],
      ['Utrecht', 'Utrecht', 10],
      ['Eindhoven', 'Noord-Brabant', 7],
      ['Groningen', 'Groningen', 5],
    ]),
    localDomains: ['ziggo.nl.example', 'kpnmail.nl.example', 'hotmail.nl.example'],
    names: {
      female: list(`
        Emma, Julia, Mila, Tess, Sophie, Zoë, Sara, Anna, Evi, Saar, Fenna, Lotte, Eva, Noor, Lieke,
        Femke, Sanne, Anouk, Ilse, Marieke, Annelies, Esmée, Roos, Fleur
      `),
      male: list(`
        Noah, Sem, Liam, Lucas, Daan, Finn, Levi, Luuk, Bram, Jesse, Thijs, Milan, Ruben, Sven, Joris,
        Pieter, Willem, Jeroen, Maarten, Sjoerd, Bas, Niels, Gijs, Wouter
      `),
      last: list(`
        de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer,
        de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer, de Wit,
        Dijkstra, Smits, de Graaf, van der Meer, Kok, Jacobs, Vermeulen
      `),
    },
  },
  {
    code: 'PT',
    weight: 5,
    cities: cities(0, [
      ['Lisboa', 'Lisboa', 35],
      ['Porto', 'Norte', 25],
      ['Braga', 'Norte', 10],
      ['Coimbra', 'Centro', 8],
      ['Faro', 'Algarve', 7],
      ['Funchal', 'Madeira', 5],
    ]),
    localDomains: ['sapo.pt.example', 'hotmail.com.example', 'netcabo.pt.example'],
    names: {
      female: list(`
        Maria, Ana, Beatriz, Leonor, Matilde, Mariana, Carolina, Inês, Sofia, Francisca, Joana, Rita,
        Catarina, Margarida, Teresa, Filipa, Conceição, Sónia, Patrícia, Cláudia
      `),
      male: list(`
        João, Francisco, Tomás, Duarte, Santiago, Rodrigo, Martim, Afonso, Gonçalo, Miguel, Pedro,
        Tiago, Diogo, Rui, Nuno, Luís, André, Bruno, Vasco, Simão
      `),
      last: list(`
        Silva, Santos, Ferreira, Pereira, Oliveira, Costa, Rodrigues, Martins, Jesus, Sousa, Fernandes,
        Gonçalves, Gomes, Lopes, Marques, Alves, Almeida, Ribeiro, Pinto, Carvalho, Teixeira, Moreira,
        Correia, Mendes, Nunes, Soares, Vieira, Simões, Araújo, Conceição
      `),
    },
  },
];

/** The store network: [country, city, store name]. The region is the city's. */
export const STORE_SITES: Array<[CountryCode, string, string]> = [
  ['IT', 'Milano', 'Milano Duomo'],
  ['IT', 'Milano', 'Milano Porta Nuova'],
  ['IT', 'Milano', 'Milano Navigli'],
  ['IT', 'Roma', 'Roma Via del Corso'],
  ['IT', 'Roma', 'Roma Termini'],
  ['IT', 'Roma', 'Roma EUR'],
  ['IT', 'Torino', 'Torino Via Roma'],
  ['IT', 'Napoli', 'Napoli Chiaia'],
  ['IT', 'Bologna', 'Bologna Piazza Maggiore'],
  ['IT', 'Firenze', 'Firenze Santa Maria Novella'],
  ['IT', 'Verona', 'Verona Arena'],
  ['FR', 'Paris', 'Paris Opéra'],
  ['FR', 'Paris', 'Paris Le Marais'],
  ['FR', 'Paris', 'Paris La Défense'],
  ['FR', 'Lyon', 'Lyon Part-Dieu'],
  ['FR', 'Marseille', 'Marseille Vieux-Port'],
  ['FR', 'Nice', 'Nice Masséna'],
  ['FR', 'Toulouse', 'Toulouse Capitole'],
  ['FR', 'Bordeaux', 'Bordeaux Sainte-Catherine'],
  ['DE', 'Berlin', 'Berlin Mitte'],
  ['DE', 'Berlin', 'Berlin Kurfürstendamm'],
  ['DE', 'München', 'München Marienplatz'],
  ['DE', 'München', 'München Schwabing'],
  ['DE', 'Hamburg', 'Hamburg Jungfernstieg'],
  ['DE', 'Köln', 'Köln Schildergasse'],
  ['DE', 'Frankfurt am Main', 'Frankfurt Zeil'],
  ['DE', 'Stuttgart', 'Stuttgart Königstraße'],
  ['ES', 'Madrid', 'Madrid Gran Vía'],
  ['ES', 'Madrid', 'Madrid Salamanca'],
  ['ES', 'Barcelona', 'Barcelona Passeig de Gràcia'],
  ['ES', 'Barcelona', 'Barcelona Diagonal'],
  ['ES', 'Valencia', 'Valencia Colón'],
  ['ES', 'Sevilla', 'Sevilla Nervión'],
  ['ES', 'Bilbao', 'Bilbao Abando'],
  ['GB', 'London', 'London Oxford Street'],
  ['GB', 'London', 'London Covent Garden'],
  ['GB', 'London', 'London Canary Wharf'],
  ['GB', 'Manchester', 'Manchester Arndale'],
  ['GB', 'Birmingham', 'Birmingham Bullring'],
  ['GB', 'Edinburgh', 'Edinburgh Princes Street'],
  ['GB', 'Bristol', 'Bristol Cabot Circus'],
  ['US', 'New York', 'New York SoHo'],
  ['US', 'New York', 'New York Fifth Avenue'],
  ['US', 'Los Angeles', 'Los Angeles The Grove'],
  ['US', 'San Francisco', 'San Francisco Union Square'],
  ['US', 'Chicago', 'Chicago Magnificent Mile'],
  ['US', 'Miami', 'Miami Brickell'],
  ['US', 'Boston', 'Boston Back Bay'],
  ['US', 'Seattle', 'Seattle Pike Place'],
  ['US', 'Austin', 'Austin South Congress'],
  ['NL', 'Amsterdam', 'Amsterdam Kalverstraat'],
  ['NL', 'Amsterdam', 'Amsterdam Zuid'],
  ['NL', 'Rotterdam', 'Rotterdam Lijnbaan'],
  ['PT', 'Lisboa', 'Lisboa Chiado'],
  ['PT', 'Porto', 'Porto Santa Catarina'],
];

/**
 * Email providers used everywhere, with their rough market shares. Every demo address ends in the reserved
 * `.example` top-level domain (RFC 2606), so demo data pointed at a real mail server can never reach a
 * real inbox, while reports by domain still read like real providers.
 */
export const GLOBAL_DOMAINS: Array<[string, number]> = [
  ['gmail.com.example', 46],
  ['outlook.com.example', 16],
  ['yahoo.com.example', 10],
  ['icloud.com.example', 12],
  ['hotmail.com.example', 6],
];

/**
 * Work addresses. The reserved `.example` top-level domain (RFC 2606) keeps these from ever being real
 * companies' mail servers.
 */
export const COMPANY_DOMAINS = ['northwind.example', 'globex.example', 'initech.example', 'acme.example'];

export interface Category {
  name: string;
  skuPrefix: string;
  /** Price range in whole currency units; prices are spread log-uniformly inside it. */
  minPrice: number;
  maxPrice: number;
  /** Product names are `qualifier item` pairs, e.g. "Linen Shirt". */
  qualifiers: string[];
  items: string[];
}

/** 8 categories × 25 products = the 200-product range. */
export const PRODUCTS_PER_CATEGORY = 25;

export const CATEGORIES: Category[] = [
  {
    name: 'Apparel',
    skuPrefix: 'APP',
    minPrice: 19,
    maxPrice: 199,
    qualifiers: ['Organic Cotton', 'Linen', 'Merino', 'Slim-Fit', 'Relaxed', 'Striped', 'Classic'],
    items: [
      'T-Shirt',
      'Shirt',
      'Jeans',
      'Chinos',
      'Sweater',
      'Hoodie',
      'Jacket',
      'Dress',
      'Skirt',
      'Cardigan',
    ],
  },
  {
    name: 'Footwear',
    skuPrefix: 'FTW',
    minPrice: 39,
    maxPrice: 189,
    qualifiers: ['Leather', 'Suede', 'Canvas', 'Recycled', 'Waterproof', 'Classic'],
    items: ['Sneakers', 'Loafers', 'Ankle Boots', 'Sandals', 'Running Shoes', 'Espadrilles', 'Chelsea Boots'],
  },
  {
    name: 'Accessories',
    skuPrefix: 'ACC',
    minPrice: 15,
    maxPrice: 249,
    qualifiers: ['Leather', 'Wool', 'Recycled', 'Minimal', 'Vintage', 'Travel'],
    items: ['Tote Bag', 'Backpack', 'Wallet', 'Belt', 'Scarf', 'Sunglasses', 'Watch', 'Cap', 'Umbrella'],
  },
  {
    name: 'Beauty',
    skuPrefix: 'BEA',
    minPrice: 6,
    maxPrice: 89,
    qualifiers: ['Rose', 'Vitamin C', 'Hyaluronic', 'Aloe Vera', 'Neroli', 'Argan', 'Sensitive Skin'],
    items: [
      'Moisturiser',
      'Serum',
      'Lip Balm',
      'Eau de Parfum',
      'Shampoo',
      'Body Lotion',
      'Face Mask',
      'Hand Cream',
    ],
  },
  {
    name: 'Home',
    skuPrefix: 'HOM',
    minPrice: 9,
    maxPrice: 149,
    qualifiers: ['Linen', 'Ceramic', 'Cotton', 'Sandalwood', 'Nordic', 'Terracotta'],
    items: [
      'Candle',
      'Throw Blanket',
      'Cushion Cover',
      'Vase',
      'Mug Set',
      'Towel Set',
      'Bed Linen Set',
      'Diffuser',
    ],
  },
  {
    name: 'Electronics',
    skuPrefix: 'ELE',
    minPrice: 12,
    maxPrice: 299,
    qualifiers: ['Compact', 'Pro', 'Mini', 'Wireless', 'Noise-Cancelling', 'Travel'],
    items: [
      'Earbuds',
      'Bluetooth Speaker',
      'Headphones',
      'Power Bank',
      'Charging Dock',
      'Desk Lamp',
      'Phone Case',
    ],
  },
  {
    name: 'Sports',
    skuPrefix: 'SPO',
    minPrice: 9,
    maxPrice: 129,
    qualifiers: ['Eco', 'Performance', 'Lightweight', 'Insulated', 'Seamless'],
    items: [
      'Yoga Mat',
      'Water Bottle',
      'Running Tights',
      'Gym Bag',
      'Training Shorts',
      'Cycling Jersey',
      'Track Jacket',
    ],
  },
  {
    name: 'Food & Drink',
    skuPrefix: 'FOO',
    minPrice: 3,
    maxPrice: 35,
    qualifiers: ['Organic', 'Single-Origin', 'Artisan', 'Fair Trade', 'Italian', 'Spanish'],
    items: [
      'Coffee Beans',
      'Olive Oil',
      'Dark Chocolate',
      'Green Tea',
      'Granola',
      'Honey',
      'Pasta',
      'Espresso Pods',
    ],
  },
];
