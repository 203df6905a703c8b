//! Stripe-style spending controls of a card and merchant categories (docs/wallets.md): which
//! categories and countries a card may pay, and how much per interval. The mock PSP's validation
//! (it refuses bad controls naming the field); the phone reads controls from the wire instead.

use serde::{Deserialize, Serialize};

use super::{codes, WalletError};

/// Healthcare merchant categories (Stripe name, MCC): what a TiersPay card may pay.
pub const HEALTHCARE_CATEGORIES: [(&str, u16); 14] = [
    ("doctors", 8011),
    ("dentists_orthodontists", 8021),
    ("osteopaths", 8031),
    ("chiropractors", 8041),
    ("optometrists_ophthalmologist", 8042),
    ("opticians_eyeglasses", 8043),
    ("chiropodists_podiatrists", 8049),
    ("nursing_personal_care", 8050),
    ("hospitals", 8062),
    ("medical_and_dental_labs", 8071),
    ("medical_services", 8099),
    ("drug_stores_and_pharmacies", 5912),
    ("hearing_aids_sales_and_supplies", 5975),
    ("orthopedic_goods_prosthetic_devices", 5976),
];

/// Categories that sound like healthcare but are not (name, MCC): never allowed by default.
pub const NOT_HEALTHCARE: [(&str, u16); 3] = [
    ("health_and_beauty_spas", 7298),
    ("counseling_services", 7277),
    ("testing_laboratories", 8734),
];

/// Spending limit intervals, as Stripe names them.
pub const INTERVALS: [&str; 6] = [
    "per_authorization",
    "daily",
    "weekly",
    "monthly",
    "yearly",
    "all_time",
];

/// Every merchant category name Stripe Issuing accepts in spending controls (the enum of
/// `spending_controls[allowed_categories][]` in Stripe's API).
pub const CATEGORIES: &[&str] = &[
    "ac_refrigeration_repair",
    "accounting_bookkeeping_services",
    "advertising_services",
    "agricultural_cooperative",
    "airlines_air_carriers",
    "airports_flying_fields",
    "ambulance_services",
    "amusement_parks_carnivals",
    "antique_reproductions",
    "antique_shops",
    "aquariums",
    "architectural_surveying_services",
    "art_dealers_and_galleries",
    "artists_supply_and_craft_shops",
    "auto_and_home_supply_stores",
    "auto_body_repair_shops",
    "auto_paint_shops",
    "auto_service_shops",
    "automated_cash_disburse",
    "automated_fuel_dispensers",
    "automobile_associations",
    "automotive_parts_and_accessories_stores",
    "automotive_tire_stores",
    "bail_and_bond_payments",
    "bakeries",
    "bands_orchestras",
    "barber_and_beauty_shops",
    "betting_casino_gambling",
    "bicycle_shops",
    "billiard_pool_establishments",
    "boat_dealers",
    "boat_rentals_and_leases",
    "book_stores",
    "books_periodicals_and_newspapers",
    "bowling_alleys",
    "bus_lines",
    "business_secretarial_schools",
    "buying_shopping_services",
    "cable_satellite_and_other_pay_television_and_radio",
    "camera_and_photographic_supply_stores",
    "candy_nut_and_confectionery_stores",
    "car_and_truck_dealers_new_used",
    "car_and_truck_dealers_used_only",
    "car_rental_agencies",
    "car_washes",
    "carpentry_services",
    "carpet_upholstery_cleaning",
    "caterers",
    "charitable_and_social_service_organizations_fundraising",
    "chemicals_and_allied_products",
    "child_care_services",
    "childrens_and_infants_wear_stores",
    "chiropodists_podiatrists",
    "chiropractors",
    "cigar_stores_and_stands",
    "civic_social_fraternal_associations",
    "cleaning_and_maintenance",
    "clothing_rental",
    "colleges_universities",
    "commercial_equipment",
    "commercial_footwear",
    "commercial_photography_art_and_graphics",
    "commuter_transport_and_ferries",
    "computer_network_services",
    "computer_programming",
    "computer_repair",
    "computer_software_stores",
    "computers_peripherals_and_software",
    "concrete_work_services",
    "construction_materials",
    "consulting_public_relations",
    "correspondence_schools",
    "cosmetic_stores",
    "counseling_services",
    "country_clubs",
    "courier_services",
    "court_costs",
    "credit_reporting_agencies",
    "cruise_lines",
    "dairy_products_stores",
    "dance_hall_studios_schools",
    "dating_escort_services",
    "dentists_orthodontists",
    "department_stores",
    "detective_agencies",
    "digital_goods_applications",
    "digital_goods_games",
    "digital_goods_large_volume",
    "digital_goods_media",
    "direct_marketing_catalog_merchant",
    "direct_marketing_combination_catalog_and_retail_merchant",
    "direct_marketing_inbound_telemarketing",
    "direct_marketing_insurance_services",
    "direct_marketing_other",
    "direct_marketing_outbound_telemarketing",
    "direct_marketing_subscription",
    "direct_marketing_travel",
    "discount_stores",
    "doctors",
    "door_to_door_sales",
    "drapery_window_covering_and_upholstery_stores",
    "drinking_places",
    "drug_stores_and_pharmacies",
    "drugs_drug_proprietaries_and_druggist_sundries",
    "dry_cleaners",
    "durable_goods",
    "duty_free_stores",
    "eating_places_restaurants",
    "educational_services",
    "electric_razor_stores",
    "electric_vehicle_charging",
    "electrical_parts_and_equipment",
    "electrical_services",
    "electronics_repair_shops",
    "electronics_stores",
    "elementary_secondary_schools",
    "emergency_services_gcas_visa_use_only",
    "employment_temp_agencies",
    "equipment_rental",
    "exterminating_services",
    "family_clothing_stores",
    "fast_food_restaurants",
    "financial_institutions",
    "fines_government_administrative_entities",
    "fireplace_fireplace_screens_and_accessories_stores",
    "floor_covering_stores",
    "florists",
    "florists_supplies_nursery_stock_and_flowers",
    "freezer_and_locker_meat_provisioners",
    "fuel_dealers_non_automotive",
    "funeral_services_crematories",
    "furniture_home_furnishings_and_equipment_stores_except_appliances",
    "furniture_repair_refinishing",
    "furriers_and_fur_shops",
    "general_services",
    "gift_card_novelty_and_souvenir_shops",
    "glass_paint_and_wallpaper_stores",
    "glassware_crystal_stores",
    "golf_courses_public",
    "government_licensed_horse_dog_racing_us_region_only",
    "government_licensed_online_casions_online_gambling_us_region_only",
    "government_owned_lotteries_non_us_region",
    "government_owned_lotteries_us_region_only",
    "government_services",
    "grocery_stores_supermarkets",
    "hardware_equipment_and_supplies",
    "hardware_stores",
    "health_and_beauty_spas",
    "hearing_aids_sales_and_supplies",
    "heating_plumbing_a_c",
    "hobby_toy_and_game_shops",
    "home_supply_warehouse_stores",
    "hospitals",
    "hotels_motels_and_resorts",
    "household_appliance_stores",
    "industrial_supplies",
    "information_retrieval_services",
    "insurance_default",
    "insurance_underwriting_premiums",
    "intra_company_purchases",
    "jewelry_stores_watches_clocks_and_silverware_stores",
    "landscaping_services",
    "laundries",
    "laundry_cleaning_services",
    "legal_services_attorneys",
    "luggage_and_leather_goods_stores",
    "lumber_building_materials_stores",
    "manual_cash_disburse",
    "marinas_service_and_supplies",
    "marketplaces",
    "masonry_stonework_and_plaster",
    "massage_parlors",
    "medical_and_dental_labs",
    "medical_dental_ophthalmic_and_hospital_equipment_and_supplies",
    "medical_services",
    "membership_organizations",
    "mens_and_boys_clothing_and_accessories_stores",
    "mens_womens_clothing_stores",
    "metal_service_centers",
    "miscellaneous",
    "miscellaneous_apparel_and_accessory_shops",
    "miscellaneous_auto_dealers",
    "miscellaneous_business_services",
    "miscellaneous_food_stores",
    "miscellaneous_general_merchandise",
    "miscellaneous_general_services",
    "miscellaneous_home_furnishing_specialty_stores",
    "miscellaneous_publishing_and_printing",
    "miscellaneous_recreation_services",
    "miscellaneous_repair_shops",
    "miscellaneous_specialty_retail",
    "mobile_home_dealers",
    "motion_picture_theaters",
    "motor_freight_carriers_and_trucking",
    "motor_homes_dealers",
    "motor_vehicle_supplies_and_new_parts",
    "motorcycle_shops_and_dealers",
    "motorcycle_shops_dealers",
    "music_stores_musical_instruments_pianos_and_sheet_music",
    "news_dealers_and_newsstands",
    "non_fi_money_orders",
    "non_fi_stored_value_card_purchase_load",
    "nondurable_goods",
    "nurseries_lawn_and_garden_supply_stores",
    "nursing_personal_care",
    "office_and_commercial_furniture",
    "opticians_eyeglasses",
    "optometrists_ophthalmologist",
    "orthopedic_goods_prosthetic_devices",
    "osteopaths",
    "package_stores_beer_wine_and_liquor",
    "paints_varnishes_and_supplies",
    "parking_lots_garages",
    "passenger_railways",
    "pawn_shops",
    "pet_shops_pet_food_and_supplies",
    "petroleum_and_petroleum_products",
    "photo_developing",
    "photographic_photocopy_microfilm_equipment_and_supplies",
    "photographic_studios",
    "picture_video_production",
    "piece_goods_notions_and_other_dry_goods",
    "plumbing_heating_equipment_and_supplies",
    "political_organizations",
    "postal_services_government_only",
    "precious_stones_and_metals_watches_and_jewelry",
    "professional_services",
    "public_warehousing_and_storage",
    "quick_copy_repro_and_blueprint",
    "railroads",
    "real_estate_agents_and_managers_rentals",
    "record_stores",
    "recreational_vehicle_rentals",
    "religious_goods_stores",
    "religious_organizations",
    "roofing_siding_sheet_metal",
    "secretarial_support_services",
    "security_brokers_dealers",
    "service_stations",
    "sewing_needlework_fabric_and_piece_goods_stores",
    "shoe_repair_hat_cleaning",
    "shoe_stores",
    "small_appliance_repair",
    "snowmobile_dealers",
    "special_trade_services",
    "specialty_cleaning",
    "sporting_goods_stores",
    "sporting_recreation_camps",
    "sports_and_riding_apparel_stores",
    "sports_clubs_fields",
    "stamp_and_coin_stores",
    "stationary_office_supplies_printing_and_writing_paper",
    "stationery_stores_office_and_school_supply_stores",
    "swimming_pools_sales",
    "t_ui_travel_germany",
    "tailors_alterations",
    "tax_payments_government_agencies",
    "tax_preparation_services",
    "taxicabs_limousines",
    "telecommunication_equipment_and_telephone_sales",
    "telecommunication_services",
    "telegraph_services",
    "tent_and_awning_shops",
    "testing_laboratories",
    "theatrical_ticket_agencies",
    "timeshares",
    "tire_retreading_and_repair",
    "tolls_bridge_fees",
    "tourist_attractions_and_exhibits",
    "towing_services",
    "trailer_parks_campgrounds",
    "transportation_services",
    "travel_agencies_tour_operators",
    "truck_stop_iteration",
    "truck_utility_trailer_rentals",
    "typesetting_plate_making_and_related_services",
    "typewriter_stores",
    "u_s_federal_government_agencies_or_departments",
    "uniforms_commercial_clothing",
    "used_merchandise_and_secondhand_stores",
    "utilities",
    "variety_stores",
    "veterinary_services",
    "video_amusement_game_supplies",
    "video_game_arcades",
    "video_tape_rental_stores",
    "vocational_trade_schools",
    "watch_jewelry_repair",
    "welding_repair",
    "wholesale_clubs",
    "wig_and_toupee_stores",
    "wires_money_orders",
    "womens_accessory_and_specialty_shops",
    "womens_ready_to_wear_stores",
    "wrecking_and_salvage_yards",
];

/// True if `name` is a Stripe merchant category.
pub fn is_category(name: &str) -> bool {
    CATEGORIES.binary_search(&name).is_ok()
}

/// The MCC of a healthcare category or a known look-alike.
pub fn mcc(name: &str) -> Option<u16> {
    HEALTHCARE_CATEGORIES
        .iter()
        .chain(NOT_HEALTHCARE.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
}

/// One limit: at most `amount` (minor units) per `interval`, for some categories or all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendingLimit {
    /// Maximum amount in minor units (cents).
    pub amount: i64,
    /// Categories the limit applies to; `None` for all.
    pub categories: Option<Vec<String>>,
    /// One of [`INTERVALS`].
    pub interval: String,
}

/// A card's spending controls, shaped as Stripe's `spending_controls` (unset lists are null).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendingControls {
    /// Only these categories are allowed (exclusive with `blocked_categories`).
    pub allowed_categories: Option<Vec<String>>,
    /// These categories are declined, all others allowed.
    pub blocked_categories: Option<Vec<String>>,
    /// Only merchants in these countries (ISO 3166-1 alpha-2).
    pub allowed_merchant_countries: Option<Vec<String>>,
    /// Merchants in these countries are declined.
    pub blocked_merchant_countries: Option<Vec<String>>,
    /// Amount limits; the most restrictive one wins.
    #[serde(default)]
    pub spending_limits: Vec<SpendingLimit>,
    /// Currency of `spending_limits` amounts.
    pub spending_limits_currency: Option<String>,
}

/// Per-authorization limit of a TiersPay card, cents (1,500 €).
pub const HEALTHCARE_PER_AUTHORIZATION: i64 = 150_000;
/// Daily limit of a TiersPay card, cents (3,000 €).
pub const HEALTHCARE_DAILY: i64 = 300_000;

impl SpendingControls {
    /// TiersPay's card: the 14 healthcare categories only, French merchants only, 1,500 € per
    /// authorization and 3,000 € a day.
    pub fn healthcare() -> Self {
        Self {
            allowed_categories: Some(
                HEALTHCARE_CATEGORIES
                    .iter()
                    .map(|(n, _)| (*n).to_owned())
                    .collect(),
            ),
            blocked_categories: None,
            allowed_merchant_countries: Some(vec!["FR".into()]),
            blocked_merchant_countries: None,
            spending_limits: vec![
                SpendingLimit {
                    amount: HEALTHCARE_PER_AUTHORIZATION,
                    categories: None,
                    interval: "per_authorization".into(),
                },
                SpendingLimit {
                    amount: HEALTHCARE_DAILY,
                    categories: None,
                    interval: "daily".into(),
                },
            ],
            spending_limits_currency: Some("eur".into()),
        }
    }

    /// Checks every field; errors name it as Stripe's form parameters would, under `prefix`
    /// (e.g. `spending_controls[allowed_categories][2]`).
    pub fn validate(&self, prefix: &str) -> Result<(), WalletError> {
        let name = |rest: &str| format!("{prefix}[{rest}]");
        let categories = |list: &Option<Vec<String>>, field: &str| {
            for (i, c) in list.iter().flatten().enumerate() {
                if !is_category(c) {
                    return Err(WalletError::new(
                        format!("{}[{i}]", name(field)),
                        codes::INVALID,
                        format!("`{c}` is not a merchant category"),
                    ));
                }
            }
            Ok(())
        };
        categories(&self.allowed_categories, "allowed_categories")?;
        categories(&self.blocked_categories, "blocked_categories")?;
        let set = |l: &Option<Vec<String>>| l.as_ref().is_some_and(|l| !l.is_empty());
        if set(&self.allowed_categories) && set(&self.blocked_categories) {
            return Err(WalletError::new(
                name("blocked_categories"),
                codes::INVALID,
                "cannot be set together with allowed_categories",
            ));
        }
        for field in ["allowed_merchant_countries", "blocked_merchant_countries"] {
            let list = if field.starts_with("allowed") {
                &self.allowed_merchant_countries
            } else {
                &self.blocked_merchant_countries
            };
            for (i, c) in list.iter().flatten().enumerate() {
                if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(WalletError::new(
                        format!("{}[{i}]", name(field)),
                        codes::INVALID,
                        "must be an ISO 3166-1 alpha-2 country code such as FR",
                    ));
                }
            }
        }
        if set(&self.allowed_merchant_countries) && set(&self.blocked_merchant_countries) {
            return Err(WalletError::new(
                name("blocked_merchant_countries"),
                codes::INVALID,
                "cannot be set together with allowed_merchant_countries",
            ));
        }
        for (i, limit) in self.spending_limits.iter().enumerate() {
            let field = |f: &str| format!("{}[{i}][{f}]", name("spending_limits"));
            if limit.amount < 0 {
                return Err(WalletError::new(
                    field("amount"),
                    codes::INVALID,
                    "must be a non-negative amount in cents",
                ));
            }
            if !INTERVALS.contains(&limit.interval.as_str()) {
                return Err(WalletError::new(
                    field("interval"),
                    codes::INVALID,
                    format!("must be one of {}", INTERVALS.join(", ")),
                ));
            }
            for (j, c) in limit.categories.iter().flatten().enumerate() {
                if !is_category(c) {
                    return Err(WalletError::new(
                        format!("{}[{j}]", field("categories")),
                        codes::INVALID,
                        format!("`{c}` is not a merchant category"),
                    ));
                }
            }
        }
        if let Some(currency) = &self.spending_limits_currency {
            if currency != "eur" {
                return Err(WalletError::new(
                    name("spending_limits_currency"),
                    codes::INVALID,
                    "must be eur",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_category_list_is_sorted_and_holds_healthcare_and_look_alikes() {
        assert!(
            CATEGORIES.windows(2).all(|w| w[0] < w[1]),
            "sorted for binary search"
        );
        for (name, _) in HEALTHCARE_CATEGORIES.iter().chain(NOT_HEALTHCARE.iter()) {
            assert!(is_category(name), "{name}");
        }
        assert_eq!(mcc("hearing_aids_sales_and_supplies"), Some(5975));
        assert!(!is_category("pharmacy"));
    }

    #[test]
    fn healthcare_controls_are_valid_and_exclude_look_alikes() {
        let c = SpendingControls::healthcare();
        c.validate("spending_controls").unwrap();
        let allowed = c.allowed_categories.as_ref().unwrap();
        assert_eq!(allowed.len(), 14);
        for (name, _) in NOT_HEALTHCARE {
            assert!(!allowed.iter().any(|a| a == name));
        }
    }

    #[test]
    fn bad_controls_name_the_field() {
        let field = |c: SpendingControls| c.validate("spending_controls").unwrap_err().field;
        let mut c = SpendingControls::healthcare();
        c.allowed_categories.as_mut().unwrap().push("spas".into());
        assert_eq!(field(c), "spending_controls[allowed_categories][14]");
        let mut c = SpendingControls::healthcare();
        c.blocked_categories = Some(vec!["bars".into()]);
        assert_eq!(field(c), "spending_controls[blocked_categories][0]");
        let mut c = SpendingControls::healthcare();
        c.blocked_categories = Some(vec!["health_and_beauty_spas".into()]);
        assert_eq!(field(c), "spending_controls[blocked_categories]");
        let mut c = SpendingControls::healthcare();
        c.allowed_merchant_countries = Some(vec!["fr".into()]);
        assert_eq!(field(c), "spending_controls[allowed_merchant_countries][0]");
        let mut c = SpendingControls::healthcare();
        c.spending_limits[1].interval = "hourly".into();
        assert_eq!(field(c), "spending_controls[spending_limits][1][interval]");
        let mut c = SpendingControls::healthcare();
        c.spending_limits[0].amount = -1;
        assert_eq!(field(c), "spending_controls[spending_limits][0][amount]");
        let mut c = SpendingControls::healthcare();
        c.spending_limits[0].categories = Some(vec!["doctors".into(), "x".into()]);
        assert_eq!(
            field(c),
            "spending_controls[spending_limits][0][categories][1]"
        );
    }
}
