TITLE hhx.mod   squid Na, K and leak channels (NEURON's hh) with channelopathy parameters

COMMENT
NEURON's built-in hh.mod (Hodgkin & Huxley 1952, SW Jaslove 1992), with the same rates,
q10 = 3^((celsius - 6.3)/10), rate tables and ena/ek/el conventions, plus channelopathy
parameters. The Na current has two populations side by side:
  mutant    gates m, h: carries every Na parameter below
  wild type gates mw, hw: hh's unshifted gates, no persistent Na
  ina = gnabar*mutfrac*m^3*((1 - nap)*h + nap)*(v - ena)
      + gnabar*(1 - mutfrac)*mw^3*hw*(v - ena)
Na parameters (of the mutant population):
  mshift (mV)  activation: half-voltage moved by mshift
  hshift (mV)  inactivation: half-voltage moved by hshift
  mslope (1)   activation slope factor: the m rates are evaluated at
               vm = MPIVOT + (v - mshift - MPIVOT)/mslope, so the Boltzmann slope of minf
               is multiplied by mslope about its (shifted) midpoint; MPIVOT is the midpoint
               of hh's minf. hslope likewise about HPIVOT for h.
  mtaufac (1)  activation time constant factor: mtau multiplied, minf unchanged
  htaufac (1)  inactivation time constant factor
  nap (1)      fraction of the mutant conductance that does not inactivate
  mutfrac (1)  mutant-allele fraction of gnabar; the default 1 makes the whole Na
               conductance the parameterised population (the hhx before two populations)
K: nshift (mV) moves n (K activation) for the whole cell (the n rates at v - nshift).
With every parameter at its default each expression reduces to hh.mod's, operation for
operation (a slope of exactly 1 takes the unscaled branch; the wild-type term is
gnabar*0*... = 0), so the two mechanisms give the same trajectories.
The shifts, slopes and time-constant factors are GLOBAL (one value per simulation) so that
the rate TABLE can DEPEND on them exactly as hh's table depends on celsius; nap and mutfrac
are RANGE variables. Must agree with hh_models/params.py (rates, steady_state_currents).
ENDCOMMENT

UNITS {
        (mA) = (milliamp)
        (mV) = (millivolt)
        (S) = (siemens)
}

NEURON {
        SUFFIX hhx
        USEION na READ ena WRITE ina
        USEION k READ ek WRITE ik
        NONSPECIFIC_CURRENT il
        RANGE gnabar, gkbar, gl, el, gna, gk, nap, mutfrac
        RANGE minf, hinf, ninf, mtau, htau, ntau, mwinf, hwinf, mwtau, hwtau
        GLOBAL mshift, hshift, mslope, hslope, mtaufac, htaufac, nshift
        THREADSAFE : assigned GLOBALs will be per thread
}

PARAMETER {
        gnabar = .12 (S/cm2)    <0,1e9>
        gkbar = .036 (S/cm2)    <0,1e9>
        gl = .0003 (S/cm2)      <0,1e9>
        el = -54.3 (mV)
        mshift = 0 (mV)
        hshift = 0 (mV)
        mslope = 1 (1)
        hslope = 1 (1)
        mtaufac = 1 (1)
        htaufac = 1 (1)
        nshift = 0 (mV)
        nap = 0 (1)             <0,1>
        mutfrac = 1 (1)         <0,1>
}

CONSTANT {
        : midpoints of hh's minf and hinf (mV): the pivots of the slope factors
        MPIVOT = -40.02457735236596 (mV)
        HPIVOT = -62.3075017836565 (mV)
}

STATE {
        m h n mw hw
}

ASSIGNED {
        v (mV)
        celsius (degC)
        ena (mV)
        ek (mV)

        gna (S/cm2)
        gk (S/cm2)
        ina (mA/cm2)
        ik (mA/cm2)
        il (mA/cm2)
        minf hinf ninf mwinf hwinf
        mtau (ms) htau (ms) ntau (ms) mwtau (ms) hwtau (ms)
}

BREAKPOINT {
        SOLVE states METHOD cnexp
        gna = gnabar*mutfrac*m*m*m*((1 - nap)*h + nap) + gnabar*(1 - mutfrac)*mw*mw*mw*hw
        ina = gna*(v - ena)
        gk = gkbar*n*n*n*n
        ik = gk*(v - ek)
        il = gl*(v - el)
}

INITIAL {
        rates(v)
        m = minf
        h = hinf
        n = ninf
        mw = mwinf
        hw = hwinf
}

DERIVATIVE states {
        rates(v)
        m' =  (minf-m)/mtau
        h' = (hinf-h)/htau
        n' = (ninf-n)/ntau
        mw' = (mwinf-mw)/mwtau
        hw' = (hwinf-hw)/hwtau
}

PROCEDURE rates(v(mV)) {  :Computes rate and other constants at current v.
        LOCAL  alpha, beta, sum, q10, vm, vh, vn
        TABLE minf, mtau, hinf, htau, ninf, ntau, mwinf, mwtau, hwinf, hwtau DEPEND celsius, mshift, hshift, mslope, hslope, mtaufac, htaufac, nshift FROM -100 TO 100 WITH 200

UNITSOFF
        q10 = 3^((celsius - 6.3)/10)
        if (mslope == 1) {
                vm = v - mshift
        } else {
                vm = MPIVOT + (v - mshift - MPIVOT)/mslope
        }
        if (hslope == 1) {
                vh = v - hshift
        } else {
                vh = HPIVOT + (v - hshift - HPIVOT)/hslope
        }
        vn = v - nshift
                :"m" sodium activation system (mutant population)
        alpha = .1 * vtrap(-(vm+40),10)
        beta =  4 * exp(-(vm+65)/18)
        sum = alpha + beta
        mtau = mtaufac/(q10*sum)
        minf = alpha/sum
                :"h" sodium inactivation system (mutant population)
        alpha = .07 * exp(-(vh+65)/20)
        beta = 1 / (exp(-(vh+35)/10) + 1)
        sum = alpha + beta
        htau = htaufac/(q10*sum)
        hinf = alpha/sum
                :wild-type m and h: hh's rates, unshifted
        alpha = .1 * vtrap(-(v+40),10)
        beta =  4 * exp(-(v+65)/18)
        sum = alpha + beta
        mwtau = 1/(q10*sum)
        mwinf = alpha/sum
        alpha = .07 * exp(-(v+65)/20)
        beta = 1 / (exp(-(v+35)/10) + 1)
        sum = alpha + beta
        hwtau = 1/(q10*sum)
        hwinf = alpha/sum
                :"n" potassium activation system
        alpha = .01*vtrap(-(vn+55),10)
        beta = .125*exp(-(vn+65)/80)
        sum = alpha + beta
        ntau = 1/(q10*sum)
        ninf = alpha/sum
}

FUNCTION vtrap(x,y) {  :Traps for 0 in denominator of rate eqns.
        if (fabs(x/y) < 1e-6) {
                vtrap = y*(1 - x/y/2)
        }else{
                vtrap = x/(exp(x/y) - 1)
        }
}

UNITSON
